"""The care team's tables in the assistant's SQLite file, created with the Store's (see
`bot.store_schema`):

- staff_users: named accounts (nurse or admin), scrypt hashes, wrong-password counts;
- staff_sessions: signed-in browsers, by the SHA-256 of the cookie, with their CSRF token;
- audit_log: who saw or changed what, when, from where; triggers refuse every update and
  delete, so nothing in it can be changed from the page or anywhere else through SQLite;
- escalation_chain: how far up the notification chain an unacknowledged alert has gone;
- escalations gains `outcome`, `acknowledged_by` and `resolved_by` (added when missing).
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.db import Table

ESCALATION_COLUMNS = ("outcome", "acknowledged_by", "resolved_by")


def create_care_tables(db: sqlite_utils.Database) -> None:
    """Create the care team's tables, triggers and columns if they do not exist yet."""
    Table(db, "staff_users").create(
        {
            "id": int,
            "name": str,
            "role": str,
            "password_hash": str,
            "created_at": str,
            "failed_attempts": int,
            "locked_until": str,
            "disabled": int,
        },
        pk="id",
        if_not_exists=True,
        not_null={"name", "role", "password_hash"},
    )
    Table(db, "staff_users").create_index(["name"], unique=True, if_not_exists=True)
    Table(db, "staff_sessions").create(
        {"id": str, "user_id": int, "created_at": str, "last_seen_at": str, "csrf": str},
        pk="id",
        foreign_keys=[("user_id", "staff_users")],
        if_not_exists=True,
    )
    Table(db, "audit_log").create(
        {
            "id": int,
            "at": str,
            "actor": str,
            "action": str,
            "escalation_id": int,
            "detail": str,
            "remote": str,
        },
        pk="id",
        if_not_exists=True,
        not_null={"at", "actor", "action"},
    )
    for verb in ("update", "delete"):
        db.conn.execute(
            f"create trigger if not exists audit_log_no_{verb} before {verb} on audit_log "
            "begin select raise(abort, 'the audit log is append-only'); end"
        )
    Table(db, "escalation_chain").create(
        {"escalation_id": int, "step": int, "last_sent_at": str},
        pk="escalation_id",
        if_not_exists=True,
    )
    escalations = Table(db, "escalations")
    have = set(escalations.columns_dict)
    for column in ESCALATION_COLUMNS:
        if column not in have:
            escalations.add_column(column, str)
