"""The check-in tables in the assistant's SQLite file (see `bot.store`), created on first use.

- checkin_enrolments: one per programme: the number, the procedure and its time (UTC),
  the patient's time zone, who enrolled and when, status active / stopped / completed.
  A number has at most one active programme (a partial unique index);
- checkin_schedule: one row per check-in of a programme: its schedule key, due time
  (UTC), status (scheduled, sending, sent, answered, missed, expired, cancelled), send
  attempts, the reminder's state and the answer read from the reply;
- checkin_texts: every text sent for a programme (intro, check-in, reminder, last call) with its
  status (sending, sent, failed, unknown) and Twilio's SID;
- checkin_replies: every reply read as an answer, unique by MessageSid, the patient's
  words cut to 500 characters (the clinic reads them on the call list).
"""

from __future__ import annotations

import sqlite_utils

from bot.store_schema import table

ENROLMENT_STATUSES = ("active", "stopped", "completed")
CHECKIN_STATUSES = ("scheduled", "sending", "sent", "answered", "missed", "expired", "cancelled")
OPEN = "sent"
DONE = ("answered", "missed", "expired", "cancelled")


def create_tables(db: sqlite_utils.Database) -> None:
    """Create the check-in tables and indexes, if they do not exist yet."""
    table(db, "checkin_enrolments").create(
        {
            "id": int,
            "phone": str,
            "procedure": str,
            "procedure_at": str,
            "timezone": str,
            "enrolled_by": str,
            "enrolled_at": str,
            "status": str,
            "intro_sent_at": str,
            "last_call_at": str,
            "stopped_at": str,
            "stopped_by": str,
            "stop_reason": str,
        },
        pk="id",
        if_not_exists=True,
        not_null={"phone", "procedure", "procedure_at", "timezone", "enrolled_by", "status"},
    )
    db.execute(
        "create unique index if not exists idx_checkin_enrolments_one_active "
        "on checkin_enrolments (phone) where status = 'active'"
    )
    table(db, "checkin_schedule").create(
        {
            "id": int,
            "enrolment_id": int,
            "key": str,
            "due_at": str,
            "status": str,
            "attempts": int,
            "next_attempt_at": str,
            "claimed_at": str,
            "sent_at": str,
            "reminder_state": str,
            "reminded_at": str,
            "answered_at": str,
            "answer_kind": str,
            "answer_value": str,
            "unclear_replies": int,
            "alert": int,
            "escalation_id": int,
            "last_error": str,
        },
        pk="id",
        foreign_keys=[("enrolment_id", "checkin_enrolments")],
        if_not_exists=True,
        not_null={"enrolment_id", "key", "due_at", "status"},
        defaults={"attempts": 0, "unclear_replies": 0, "alert": 0},
    )
    table(db, "checkin_schedule").create_index(
        ["enrolment_id", "key"], unique=True, if_not_exists=True
    )
    table(db, "checkin_schedule").create_index(["status", "due_at"], if_not_exists=True)
    table(db, "checkin_texts").create(
        {
            "id": int,
            "enrolment_id": int,
            "checkin_id": int,
            "kind": str,
            "status": str,
            "created_at": str,
            "sent_at": str,
            "sid": str,
            "error": str,
        },
        pk="id",
        foreign_keys=[("enrolment_id", "checkin_enrolments"), ("checkin_id", "checkin_schedule")],
        if_not_exists=True,
    )
    table(db, "checkin_texts").create_index(["enrolment_id", "created_at"], if_not_exists=True)
    table(db, "checkin_replies").create(
        {
            "id": int,
            "enrolment_id": int,
            "checkin_id": int,
            "message_sid": str,
            "received_at": str,
            "text": str,
            "kind": str,
            "value": str,
            "alert": int,
        },
        pk="id",
        foreign_keys=[("enrolment_id", "checkin_enrolments"), ("checkin_id", "checkin_schedule")],
        if_not_exists=True,
    )
    table(db, "checkin_replies").create_index(["message_sid"], unique=True, if_not_exists=True)
