"""The assistant's own tables in SQLite, created on first use (see `bot.store`; the same
tables on PostgreSQL: `bot.storage.schema`).

- escalations: one per open problem in a conversation (repeat reports attach);
- escalation_reports: each red-flag turn, unique by `event_key` (conversation
  id and the turn's timestamp), so the action and the reconciler can both try
  to record a turn and it is stored once;
- outbox: one row per notification to send; a worker claims it (`claimed_until`, a lease),
  sends and retries;
- notification_attempts: every delivery attempt, with its error;
- meta: small key/value state (the reconciler's cursor);
- the care team's tables (accounts, sessions, audit log, chain): `bot.care_schema`.
- the check-in tables, from their own module (`bot.checkins.schema`).
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.db import Table

from bot.care_schema import create_care_tables


def table(db: sqlite_utils.Database, name: str) -> Table:
    """The table `name` (sqlite-utils' `db[name]` is typed Table or View; ours are tables)."""
    return Table(db, name)


def create_tables(db: sqlite_utils.Database) -> None:
    """Create the tables and indexes the Store uses, if they do not exist yet."""
    table(db, "escalations").create(
        {
            "id": int,
            "created_at": str,
            "updated_at": str,
            "channel": str,
            "sender": str,
            "tier": str,
            "symptoms": str,
            "message": str,
            "status": str,
            "callback_number": str,
            "source": str,
            "acknowledged_at": str,
            "resolved_at": str,
            "resolution_note": str,
        },
        pk="id",
        if_not_exists=True,
        not_null={"created_at", "sender", "tier", "status"},
    )
    table(db, "escalation_reports").create(
        {
            "id": int,
            "escalation_id": int,
            "event_key": str,
            "at": str,
            "tier": str,
            "symptoms": str,
            "message": str,
            "source": str,
        },
        pk="id",
        foreign_keys=[("escalation_id", "escalations")],
        if_not_exists=True,
    )
    table(db, "escalation_reports").create_index(["event_key"], unique=True, if_not_exists=True)
    table(db, "outbox").create(
        {
            "id": int,
            "escalation_id": int,
            "notifier": str,
            "reason": str,
            "created_at": str,
            "attempts": int,
            "next_attempt_at": str,
            "delivered_at": str,
            "last_error": str,
            "claimed_until": str,
        },
        pk="id",
        foreign_keys=[("escalation_id", "escalations")],
        if_not_exists=True,
    )
    if "claimed_until" not in table(db, "outbox").columns_dict:  # databases from before leases
        table(db, "outbox").add_column("claimed_until", str)
    table(db, "notification_attempts").create(
        {"id": int, "outbox_id": int, "at": str, "ok": int, "error": str},
        pk="id",
        foreign_keys=[("outbox_id", "outbox")],
        if_not_exists=True,
    )
    table(db, "meta").create({"key": str, "value": str}, pk="key", if_not_exists=True)
    table(db, "escalations").create_index(["sender", "status"], if_not_exists=True)
    table(db, "outbox").create_index(["delivered_at", "next_attempt_at"], if_not_exists=True)
    create_care_tables(db)

    from bot.checkins.schema import create_tables as create_checkin_tables

    create_checkin_tables(db)
