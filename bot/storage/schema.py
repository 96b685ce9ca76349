"""The assistant's tables as SQLAlchemy Core metadata, for PostgreSQL (`bot.storage.sql`).

The same tables, columns and indexes as the SQLite schema (`bot.store_schema`,
`bot.care_schema`, `bot.checkins.schema`, `bot.channels.sms_store`,
`bot.channels.web_sessions`), so one SQL text runs on both: times are ISO-8601 text in UTC
(they sort as text), flags are integers 0/1, JSON is text.

`create_schema` takes a transaction-level advisory lock first: several processes (Rasa
servers, action servers, workers) starting at once create the tables once, and the others
wait for it and then find them. Upgrades of older databases (a column added later) run
under the same lock.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Column, Float, ForeignKey, Index, Integer, MetaData, Table, Text

metadata = MetaData()

# pg_advisory_xact_lock keys (any 64-bit numbers, fixed, distinct from the named locks')
SCHEMA_LOCK = 7_301_016_001


def _id() -> Column:
    return Column("id", Integer, primary_key=True, autoincrement=True)


escalations = Table(
    "escalations",
    metadata,
    _id(),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text),
    Column("channel", Text),
    Column("sender", Text, nullable=False),
    Column("tier", Text, nullable=False),
    Column("symptoms", Text),
    Column("message", Text),
    Column("status", Text, nullable=False),
    Column("callback_number", Text),
    Column("source", Text),
    Column("acknowledged_at", Text),
    Column("resolved_at", Text),
    Column("resolution_note", Text),
    Column("outcome", Text),
    Column("acknowledged_by", Text),
    Column("resolved_by", Text),
    Index("idx_escalations_sender_status", "sender", "status"),
)

escalation_reports = Table(
    "escalation_reports",
    metadata,
    _id(),
    Column("escalation_id", Integer, ForeignKey("escalations.id")),
    Column("event_key", Text),
    Column("at", Text),
    Column("tier", Text),
    Column("symptoms", Text),
    Column("message", Text),
    Column("source", Text),
    Index("idx_escalation_reports_event_key", "event_key", unique=True),
)

outbox = Table(
    "outbox",
    metadata,
    _id(),
    Column("escalation_id", Integer, ForeignKey("escalations.id")),
    Column("notifier", Text),
    Column("reason", Text),
    Column("created_at", Text),
    Column("attempts", Integer),
    Column("next_attempt_at", Text),
    Column("delivered_at", Text),
    Column("last_error", Text),
    # a worker's lease on the row (`claim_notifications`): nobody else sends it before then
    Column("claimed_until", Text),
    Index("idx_outbox_delivered_at_next_attempt_at", "delivered_at", "next_attempt_at"),
)

notification_attempts = Table(
    "notification_attempts",
    metadata,
    _id(),
    Column("outbox_id", Integer, ForeignKey("outbox.id")),
    Column("at", Text),
    Column("ok", Integer),
    Column("error", Text),
)

meta = Table(
    "meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text),
)

# -- the care team's (bot.care_schema) --------------------------------------------------

staff_users = Table(
    "staff_users",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", Text),
    Column("failed_attempts", Integer),
    Column("locked_until", Text),
    Column("disabled", Integer),
    Index("idx_staff_users_name", "name", unique=True),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("user_id", Integer, ForeignKey("staff_users.id")),
    Column("created_at", Text),
    Column("last_seen_at", Text),
    Column("csrf", Text),
)

audit_log = Table(
    "audit_log",
    metadata,
    _id(),
    Column("at", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("escalation_id", Integer),
    Column("detail", Text),
    Column("remote", Text),
)

escalation_chain = Table(
    "escalation_chain",
    metadata,
    Column("escalation_id", Integer, primary_key=True, autoincrement=False),
    Column("step", Integer),
    Column("last_sent_at", Text),
)

# -- the SMS channel's (bot.channels.sms_store) ------------------------------------------

sms_opt_outs = Table(
    "sms_opt_outs",
    metadata,
    Column("phone", Text, primary_key=True),
    Column("opted_out_at", Text),
    Column("keyword", Text),
    Column("message_sid", Text),
)

sms_messages = Table(
    "sms_messages",
    metadata,
    Column("message_sid", Text, primary_key=True),
    Column("phone", Text),
    Column("received_at", Text),
    Column("reply", Text),
    Column("replied_at", Text),
)

sms_choices = Table(
    "sms_choices",
    metadata,
    Column("phone", Text, primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("title", Text),
    Column("payload", Text),
    Column("offered_at", Text),
)

# -- the website chat's (bot.channels.web_sessions) --------------------------------------

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("session_id", Text, primary_key=True),
    Column("browser", Text, nullable=False),
    Column("last_seen", Float, nullable=False),
)

# -- check-ins (bot.checkins.schema) -----------------------------------------------------

checkin_enrolments = Table(
    "checkin_enrolments",
    metadata,
    _id(),
    Column("phone", Text, nullable=False),
    Column("procedure", Text, nullable=False),
    Column("procedure_at", Text, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("enrolled_by", Text, nullable=False),
    Column("enrolled_at", Text),
    Column("status", Text, nullable=False),
    Column("intro_sent_at", Text),
    Column("last_call_at", Text),
    Column("stopped_at", Text),
    Column("stopped_by", Text),
    Column("stop_reason", Text),
    Index(
        "idx_checkin_enrolments_one_active",
        "phone",
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    ),
)

checkin_schedule = Table(
    "checkin_schedule",
    metadata,
    _id(),
    Column("enrolment_id", Integer, ForeignKey("checkin_enrolments.id"), nullable=False),
    Column("key", Text, nullable=False),
    Column("due_at", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, server_default="0"),
    Column("next_attempt_at", Text),
    Column("claimed_at", Text),
    Column("sent_at", Text),
    Column("reminder_state", Text),
    Column("reminded_at", Text),
    Column("answered_at", Text),
    Column("answer_kind", Text),
    Column("answer_value", Text),
    Column("unclear_replies", Integer, server_default="0"),
    Column("alert", Integer, server_default="0"),
    Column("escalation_id", Integer),
    Column("last_error", Text),
    Index("idx_checkin_schedule_enrolment_id_key", "enrolment_id", "key", unique=True),
    Index("idx_checkin_schedule_status_due_at", "status", "due_at"),
)

checkin_texts = Table(
    "checkin_texts",
    metadata,
    _id(),
    Column("enrolment_id", Integer, ForeignKey("checkin_enrolments.id")),
    Column("checkin_id", Integer, ForeignKey("checkin_schedule.id")),
    Column("kind", Text),
    Column("status", Text),
    Column("created_at", Text),
    Column("sent_at", Text),
    Column("sid", Text),
    Column("error", Text),
    Index("idx_checkin_texts_enrolment_id_created_at", "enrolment_id", "created_at"),
)

checkin_replies = Table(
    "checkin_replies",
    metadata,
    _id(),
    Column("enrolment_id", Integer, ForeignKey("checkin_enrolments.id")),
    Column("checkin_id", Integer, ForeignKey("checkin_schedule.id")),
    Column("message_sid", Text),
    Column("received_at", Text),
    Column("text", Text),
    Column("kind", Text),
    Column("value", Text),
    Column("alert", Integer),
    Index("idx_checkin_replies_message_sid", "message_sid", unique=True),
)

# The audit log refuses every update and delete, as SQLite's triggers do (bot.care_schema),
# with an integrity error on both (`Store.integrity_errors`).
_AUDIT_FUNCTION = """
create or replace function audit_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'the audit log is append-only' using errcode = 'integrity_constraint_violation';
end $$
"""
_AUDIT_TRIGGER = """
do $$
begin
  if not exists (select 1 from pg_trigger where tgname = 'audit_log_append_only') then
    create trigger audit_log_append_only before update or delete on audit_log
      for each row execute function audit_log_append_only();
  end if;
end $$
"""

# Columns added after a table first shipped: (table, column, SQL type). Added when missing.
UPGRADES = (("outbox", "claimed_until", "text"),)


def create_schema(engine: sa.engine.Engine) -> None:
    """Create every table, index and trigger that is missing, once even when several
    processes start at the same moment (a transaction-level advisory lock)."""
    with engine.begin() as conn:
        conn.execute(sa.text("select pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        metadata.create_all(conn, checkfirst=True)
        for table, column, kind in UPGRADES:
            conn.exec_driver_sql(f"alter table {table} add column if not exists {column} {kind}")
        conn.exec_driver_sql(_AUDIT_FUNCTION)
        conn.exec_driver_sql(_AUDIT_TRIGGER)
