"""SQL text that runs on SQLite and on PostgreSQL alike.

The modules written for SQLite (staff accounts, the audit log, check-ins, the chain, the SMS
state) pass `?`-placeholder SQL to `store.transaction()` connections and `store.db.execute`.
On SQLite that is sqlite3 itself; on PostgreSQL `bot.storage.sql` turns the `?` into the
driver's `%s`. The SQL they use is what both databases read the same way: no `insert or
ignore` (`on conflict do nothing`), no `lastrowid` (`returning id`, `insert_id` here),
no `sqlite_master` (`store.has_table`).
"""

from __future__ import annotations

import sqlite3
from typing import Any, Sequence, Tuple, Type

import sqlalchemy as sa

# what a unique or not-null violation raises, on either database
INTEGRITY_ERRORS: Tuple[Type[BaseException], ...] = (sqlite3.IntegrityError, sa.exc.IntegrityError)


def insert_id(conn: Any, sql: str, args: Sequence[Any] = ()) -> int:
    """Run an `insert` of one row and return its new `id` (`returning id`, on both)."""
    rows = conn.execute(f"{sql} returning id", list(args)).fetchall()
    return int(rows[0][0])


def pyformat(sql: str) -> str:
    """`?` placeholders (outside quoted text) as `%s`, and every `%` doubled, for psycopg2."""
    out = []
    quote = ""
    for char in sql:
        if quote:
            if char == quote:
                quote = ""
        elif char in ("'", '"'):
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append("%%" if char == "%" else char)
    return "".join(out)
