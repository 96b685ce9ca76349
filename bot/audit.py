"""The audit log: every view of patient data and every change, with who, when, what and
from where (`python -m bot audit` prints it).

Rows are written inside the transaction of the change they describe, so a change is never
without its row. The table refuses updates and deletes (triggers: `bot.care_schema` on
SQLite, `bot.storage.schema` on PostgreSQL).
Rows name an escalation by id and never hold a patient's words or number.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from bot import clock
from bot.store import Store, iso


def write(
    conn: Any,
    actor: str,
    action: str,
    escalation_id: Optional[int] = None,
    detail: str = "",
    remote: str = "",
) -> None:
    """Append one row, in the caller's transaction (a `Store.transaction()` connection)."""
    conn.execute(
        "insert into audit_log (at, actor, action, escalation_id, detail, remote) "
        "values (?, ?, ?, ?, ?, ?)",
        [iso(clock.now()), actor, action, escalation_id, detail[:500], remote[:100]],
    )


def record(
    store: Store,
    actor: str,
    action: str,
    escalation_id: Optional[int] = None,
    detail: str = "",
    remote: str = "",
) -> None:
    """Append one row in a transaction of its own (views change nothing else)."""
    with store.transaction() as conn:
        write(conn, actor, action, escalation_id, detail, remote)


def rows(
    store: Store, escalation_id: Optional[int] = None, limit: int = 1000
) -> List[Dict[str, Any]]:
    """The newest `limit` rows, oldest first; only one escalation's when given."""
    where, args = ("where escalation_id = ?", [escalation_id]) if escalation_id else ("", [])
    found = store.db.execute(
        "select id, at, actor, action, escalation_id, detail, remote from audit_log "
        f"{where} order by id desc limit ?",
        [*args, limit],
    ).fetchall()
    names = ("id", "at", "actor", "action", "escalation_id", "detail", "remote")
    return [dict(zip(names, row, strict=True)) for row in reversed(found)]


def _printable(value: Any) -> str:
    """No terminal control characters from a typed-in name reach the terminal."""
    return "".join(c if c.isprintable() else "?" for c in str(value or ""))


def format_row(row: Dict[str, Any]) -> str:
    row = {key: _printable(value) for key, value in row.items()}
    target = f"#{row['escalation_id']}" if row["escalation_id"] else "-"
    return (
        f"{row['at']}  {row['actor']:<16} {row['action']:<24} {target:<6} "
        f"{row['remote'] or '-':<15} {row['detail'] or ''}"
    ).rstrip()
