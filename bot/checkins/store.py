"""Check-in data over the assistant's Store (same database, same transactions: the SQLite
file, or PostgreSQL with DATABASE_URL; the SQL is what both read alike).

Enrolments, their scheduled check-ins, the texts sent and the replies read. Every
state change is one `UPDATE ... WHERE status = <expected>` inside a transaction, so
two workers, or a worker and the SMS channel, never both take the same step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import audit
from bot.channels.sms_format import e164
from bot.checkins.schedule import Schedule
from bot.storage.portable import insert_id
from bot.store import Store, iso

PROCEDURES = ("vertebroplasty", "kyphoplasty")
MAX_REPLY = 500


class EnrolmentError(ValueError):
    """The enrolment was refused; the message says why (for staff)."""


def check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise EnrolmentError(
            f"unknown time zone {name!r} (use a name like America/Chicago)"
        ) from error
    return name


class CheckinStore:
    """The check-in tables of one assistant Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def db(self) -> Any:
        return self.store.db

    def rows(self, sql: str, args: Any = ()) -> List[Dict[str, Any]]:
        cursor = self.db.execute(sql, list(args))
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # -- enrolments -------------------------------------------------------------------

    def enrol(
        self,
        *,
        phone: str,
        procedure: str,
        procedure_at: datetime,
        zone: str,
        enrolled_by: str,
        schedule: Schedule,
        now: datetime,
        audit_remote: Optional[str] = None,
    ) -> int:
        """Enrol `phone` in the programme; its check-ins' due times are fixed now. With
        `audit_remote` (the staff page's client), the audit row is written in the same
        transaction."""
        number = e164(phone)
        if not number:
            raise EnrolmentError(f"not a mobile number: {phone!r}")
        if procedure not in PROCEDURES:
            raise EnrolmentError(f"procedure must be one of {', '.join(PROCEDURES)}")
        if not enrolled_by.strip():
            raise EnrolmentError("say who enrolled the patient")
        if procedure_at.tzinfo is None:
            raise EnrolmentError("the procedure time needs a time zone")
        check_zone(zone)
        try:
            with self.store.transaction() as conn:
                enrolment_id = insert_id(
                    conn,
                    "insert into checkin_enrolments (phone, procedure, procedure_at, timezone, "
                    "enrolled_by, enrolled_at, status) values (?, ?, ?, ?, ?, ?, 'active')",
                    [number, procedure, iso(procedure_at), zone, enrolled_by.strip(), iso(now)],
                )
                for key, due in schedule.due_times(procedure_at, zone):
                    conn.execute(
                        "insert into checkin_schedule (enrolment_id, key, due_at, status, "
                        "next_attempt_at) values (?, ?, ?, 'scheduled', ?)",
                        [enrolment_id, key, iso(due), iso(due)],
                    )
                if audit_remote is not None:
                    audit.write(
                        conn,
                        enrolled_by.strip(),
                        "enrolled for check-ins",
                        detail=f"programme #{enrolment_id}",
                        remote=audit_remote,
                    )
        except self.store.integrity_errors as error:
            raise EnrolmentError("this number already has an active programme") from error
        return enrolment_id

    def enrolment(self, enrolment_id: int) -> Optional[Dict[str, Any]]:
        found = self.rows("select * from checkin_enrolments where id = ?", [enrolment_id])
        return found[0] if found else None

    def active_for(self, phone: str) -> Optional[Dict[str, Any]]:
        found = self.rows(
            "select * from checkin_enrolments where phone = ? and status = 'active'", [phone]
        )
        return found[0] if found else None

    def enrolments(self, status: Optional[str] = None) -> List[Dict[str, Any]]:
        if status:
            return self.rows(
                "select * from checkin_enrolments where status = ? order by id", [status]
            )
        return self.rows("select * from checkin_enrolments order by id")

    def checkins(self, enrolment_id: int) -> List[Dict[str, Any]]:
        return self.rows(
            "select * from checkin_schedule where enrolment_id = ? order by due_at, id",
            [enrolment_id],
        )

    def texts(self, enrolment_id: int) -> List[Dict[str, Any]]:
        return self.rows(
            "select * from checkin_texts where enrolment_id = ? order by id", [enrolment_id]
        )

    def replies(self, enrolment_id: int) -> List[Dict[str, Any]]:
        return self.rows(
            "select * from checkin_replies where enrolment_id = ? order by id", [enrolment_id]
        )

    def stop(
        self,
        enrolment_id: int,
        by: str,
        reason: str,
        now: datetime,
        audit_remote: Optional[str] = None,
    ) -> bool:
        """End an active programme: every check-in not yet done is cancelled (audited in the
        same transaction with `audit_remote`, as `enrol`)."""
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "update checkin_enrolments set status = 'stopped', stopped_at = ?, "
                "stopped_by = ?, stop_reason = ? where id = ? and status = 'active'",
                [iso(now), by, reason[:200], enrolment_id],
            )
            if cursor.rowcount != 1:
                return False
            conn.execute(
                "update checkin_schedule set status = 'cancelled' where enrolment_id = ? "
                "and status in ('scheduled', 'sent')",
                [enrolment_id],
            )
            if audit_remote is not None:
                audit.write(
                    conn,
                    by,
                    "stopped check-ins",
                    detail=f"programme #{enrolment_id}",
                    remote=audit_remote,
                )
        return True

    def complete_if_done(self, enrolment_id: int) -> bool:
        """Mark the programme completed when none of its check-ins is left to send or answer."""
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "update checkin_enrolments set status = 'completed' where id = ? and "
                "status = 'active' and not exists (select 1 from checkin_schedule where "
                "enrolment_id = ? and status in ('scheduled', 'sending', 'sent'))",
                [enrolment_id, enrolment_id],
            )
            return cursor.rowcount == 1

    # -- check-in state ---------------------------------------------------------------

    def move(self, checkin_id: int, expected: str, **values: Any) -> bool:
        """Set `values` on a check-in whose status is `expected`; False when it is not."""
        sets = ", ".join(f"{name} = ?" for name in values)
        with self.store.transaction() as conn:
            cursor = conn.execute(
                f"update checkin_schedule set {sets} where id = ? and status = ?",
                [*values.values(), checkin_id, expected],
            )
            return cursor.rowcount == 1

    def link_alert(self, checkin_id: int, escalation_id: int) -> None:
        """The check-in needed a call: the escalation that holds it."""
        with self.store.transaction() as conn:
            conn.execute(
                "update checkin_schedule set alert = 1, escalation_id = ? where id = ?",
                [escalation_id, checkin_id],
            )

    def set_reminder(
        self,
        checkin_id: int,
        expected: Optional[str],
        state: Optional[str],
        at: Optional[datetime],
    ) -> bool:
        """Move a sent check-in's reminder from `expected` to `state` (None: not sent),
        stamped `at`; False when it was not in `expected`."""
        check = "reminder_state is null" if expected is None else "reminder_state = ?"
        args: List[Any] = [state, iso(at) if at else None, checkin_id]
        args += [] if expected is None else [expected]
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "update checkin_schedule set reminder_state = ?, reminded_at = ? where id = ? "
                f"and status = 'sent' and {check}",
                args,
            )
            return cursor.rowcount == 1

    def open_checkin(self, enrolment_id: int) -> Optional[Dict[str, Any]]:
        """The latest check-in sent and not yet answered or missed."""
        found = self.rows(
            "select * from checkin_schedule where enrolment_id = ? and status = 'sent' "
            "order by sent_at desc, id desc limit 1",
            [enrolment_id],
        )
        return found[0] if found else None

    def last_score(self, enrolment_id: int, before_id: int) -> Optional[int]:
        found = self.rows(
            "select answer_value from checkin_schedule where enrolment_id = ? and id != ? and "
            "answer_kind = 'pain' order by answered_at desc limit 1",
            [enrolment_id, before_id],
        )
        return int(found[0]["answer_value"]) if found else None

    # -- texts ------------------------------------------------------------------------

    def add_text(
        self, enrolment_id: int, checkin_id: Optional[int], kind: str, now: datetime
    ) -> int:
        with self.store.transaction() as conn:
            return insert_id(
                conn,
                "insert into checkin_texts (enrolment_id, checkin_id, kind, status, created_at) "
                "values (?, ?, ?, 'sending', ?)",
                [enrolment_id, checkin_id, kind, iso(now)],
            )

    def text_done(
        self, text_id: int, status: str, now: datetime, sid: str = "", error: str = ""
    ) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "update checkin_texts set status = ?, sent_at = ?, sid = ?, error = ? where id = ?",
                [status, iso(now) if status == "sent" else None, sid, error[:500], text_id],
            )

    def counted_texts_since(self, enrolment_id: int, since: datetime) -> List[datetime]:
        """When each check-in, reminder or last-call text since `since` was sent (or tried: a text
        whose fate is unknown counts), for the day and week limits."""
        found = self.rows(
            "select created_at from checkin_texts where enrolment_id = ? and created_at > ? "
            "and kind in ('checkin', 'reminder', 'last_call') "
            "and status in ('sending', 'sent', 'unknown')",
            [enrolment_id, iso(since)],
        )
        return [datetime.fromisoformat(r["created_at"]) for r in found]

    # -- replies ----------------------------------------------------------------------

    def add_reply(
        self,
        *,
        enrolment_id: int,
        checkin_id: int,
        message_sid: str,
        text: str,
        kind: str,
        value: Optional[str],
        alert: bool,
        now: datetime,
    ) -> bool:
        """Keep a reply; False when its MessageSid was kept before (Twilio retried)."""
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "insert into checkin_replies (enrolment_id, checkin_id, message_sid, "
                "received_at, text, kind, value, alert) values (?, ?, ?, ?, ?, ?, ?, ?) "
                "on conflict do nothing",
                [enrolment_id, checkin_id, message_sid, iso(now), text[:MAX_REPLY], kind, value,
                 int(alert)],
            )  # fmt: skip
            return cursor.rowcount == 1

    def unclear_reply(self, checkin_id: int) -> int:
        """Count one more unreadable reply; the count."""
        with self.store.transaction() as conn:
            conn.execute(
                "update checkin_schedule set unclear_replies = unclear_replies + 1 where id = ?",
                [checkin_id],
            )
            row = conn.execute(
                "select unclear_replies from checkin_schedule where id = ?", [checkin_id]
            ).fetchone()
        return int(row[0])
