"""The worker's check-in job: send what is due, remind once, mark silence as missed.

`run_due` is one cycle, called by the worker (bot/worker.py) every few seconds:
1. a send a crashed worker left half done (claimed more than `STUCK` ago) counts as
   sent: a check-in is never texted twice, and its reminder still follows;
2. due check-ins go out through the outbound SMS sender (bot/channels/outbound.py),
   the programme's intro text just before the first one, only inside the sending
   window on the patient's clock and within the day and week limits (else they wait);
   one not sent `expire_after_hours` after it was due is dropped (expired); a number
   that opted out (STOP) has its due check-ins cancelled, and START lets later ones go;
3. a check-in unanswered `reminder_after_hours` after it went out gets one reminder,
   under the same window and limits;
4. silence `missed_after_hours` after the reminder (or `give_up_hours` after the
   check-in, or a newer check-in sent) marks it missed and puts the patient on the
   clinic's call list;
5. after `last_call_after_missed` missed in a row, one last text asks whether the patient
   needs help or wants the texts to stop.
A Twilio error leaves the check-in queued, retried with backoff. Numbers are masked
in logs and no text is logged.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional
from zoneinfo import ZoneInfo

from bot.channels import outbound
from bot.channels.sms_format import mask, scrub
from bot.channels.sms_store import SmsStore
from bot.checkins.calllist import call_back
from bot.checkins.schedule import Entry, Schedule, ScheduleError, fill, load_schedule
from bot.checkins.store import CheckinStore
from bot.clock import Clock, system_clock
from bot.settings import Settings
from bot.store import Store, iso

logger = logging.getLogger(__name__)

Send = Callable[[str, str], List[str]]
STUCK = timedelta(minutes=10)
MAX_RETRY_SECONDS = 3600.0
_JOIN = (
    "select s.*, e.phone, e.timezone, e.procedure, e.intro_sent_at from checkin_schedule s "
    "join checkin_enrolments e on e.id = s.enrolment_id where e.status = 'active' and "
)


def _default_send(to: str, body: str) -> List[str]:
    return outbound.send_sms(to, body, proactive=True)


def question_text(schedule: Schedule, entry: Entry) -> str:
    """The check-in text: its question and how to answer it."""
    return fill(f"{entry.question} {schedule.answers[entry.ask]['how']}")


class Sender:
    """One cycle's context: the store, settings, schedule, clock and send function."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        schedule: Schedule,
        clock: Clock,
        send: Send,
    ) -> None:
        self.store = store
        self.settings = settings
        self.schedule = schedule
        self.clock = clock
        self.send = send
        self.checkins = CheckinStore(store)
        self.sms = SmsStore(store)
        self.counts: Counter = Counter()

    # -- one cycle ----------------------------------------------------------------------

    def run(self, batch: int = 500) -> Dict[str, int]:
        limits = self.schedule.limits
        self.recover()
        now = iso(self.clock())
        for row in self.checkins.rows(
            _JOIN + "s.status = 'scheduled' and s.due_at <= ? and s.next_attempt_at <= ? "
            "order by s.due_at, s.id limit ?",
            [now, now, batch],
        ):
            self.counts[self.send_checkin(row)] += 1
        for row in self.checkins.rows(
            _JOIN + "s.status = 'sent' and s.reminder_state is null and s.sent_at <= ? "
            "and s.sent_at > ? order by s.sent_at, s.id limit ?",  # not once it is missed
            [iso(self.clock() - limits.reminder_after), iso(self.clock() - limits.give_up), batch],
        ):
            self.counts[self.remind(row)] += 1
        self.miss_silent()
        self.last_calls()
        return {k: v for k, v in self.counts.items() if k}

    def recover(self) -> None:
        """Count sends a crashed worker left half done as sent (never text twice)."""
        before = iso(self.clock() - STUCK)
        with self.store.transaction() as conn:
            moved = conn.execute(
                "update checkin_schedule set status = 'sent', sent_at = claimed_at "
                "where status = 'sending' and claimed_at <= ?",
                [before],
            ).rowcount
            conn.execute(
                "update checkin_schedule set reminder_state = 'unknown' "
                "where reminder_state = 'sending' and reminded_at <= ?",
                [before],
            )
            conn.execute(
                "update checkin_texts set status = 'unknown' where status = 'sending' "
                "and created_at <= ?",
                [before],
            )
        if moved:
            logger.warning("%d check-in send(s) interrupted earlier: counted as sent", moved)
            self.counts["recovered"] += moved

    # -- rules --------------------------------------------------------------------------

    def opted_out(self, phone: str) -> bool:
        return self.sms.is_opted_out(phone)

    def may_text(self, row: Dict[str, Any], now: datetime) -> bool:
        """Inside the window on the patient's clock, and within the limits: `per_day` texts
        a local calendar day, `per_week` in any 7 local calendar days."""
        limits = self.schedule.limits
        if not self.schedule.in_window(now, row["timezone"]):
            return False
        zone = ZoneInfo(row["timezone"])
        since = now - timedelta(days=8)
        today = now.astimezone(zone).date()
        days = [
            t.astimezone(zone).date()
            for t in self.checkins.counted_texts_since(int(row["enrolment_id"]), since)
        ]
        if sum(1 for d in days if d == today) >= limits.per_day:
            return False
        return sum(1 for d in days if today - timedelta(days=6) <= d) < limits.per_week

    def _text(self, row: Dict[str, Any], kind: str, body: str, now: datetime) -> None:
        """Send one text of `kind`, kept in checkin_texts; raises OutboundError."""
        checkin_id = None if row.get("id") is None else int(row["id"])
        text_id = self.checkins.add_text(int(row["enrolment_id"]), checkin_id, kind, now)
        try:
            sids = self.send(str(row["phone"]), body)
        except outbound.OutboundError as error:
            self.checkins.text_done(text_id, "failed", now, error=scrub(str(error)))
            raise
        self.checkins.text_done(text_id, "sent", self.clock(), sid=",".join(sids))

    # -- sending a check-in -------------------------------------------------------------

    def send_checkin(self, row: Dict[str, Any]) -> str:
        now = self.clock()
        checkin_id = int(row["id"])
        try:
            entry = self.schedule.entry(row["key"])
        except KeyError:
            self.checkins.move(checkin_id, "scheduled", status="cancelled", last_error="no entry")
            logger.warning(
                "check-in %s: %r is not in the schedule: cancelled", checkin_id, row["key"]
            )
            return "cancelled"
        if now > datetime.fromisoformat(row["due_at"]) + self.schedule.limits.expire_after:
            self.checkins.move(checkin_id, "scheduled", status="expired")
            self.checkins.complete_if_done(int(row["enrolment_id"]))
            return "expired"
        if self.opted_out(row["phone"]):
            self.checkins.move(checkin_id, "scheduled", status="cancelled", last_error="opted out")
            self.checkins.complete_if_done(int(row["enrolment_id"]))
            return "cancelled"
        if not self.may_text(row, now):
            return "queued"
        if not self.checkins.move(
            checkin_id,
            "scheduled",
            status="sending",
            claimed_at=iso(now),
            attempts=int(row["attempts"] or 0) + 1,
        ):
            return ""  # another worker took it
        try:
            self._intro(row, now)
            self._text(row, "checkin", question_text(self.schedule, entry), now)
        except outbound.OptedOut:
            self.checkins.move(checkin_id, "sending", status="cancelled", last_error="opted out")
            return "cancelled"
        except outbound.OutboundError as error:
            wait = min(self.schedule.limits.retry_seconds * 2 ** int(row["attempts"] or 0),
                       MAX_RETRY_SECONDS)  # fmt: skip
            self.checkins.move(
                checkin_id,
                "sending",
                status="scheduled",
                next_attempt_at=iso(now + timedelta(seconds=wait)),
                last_error=scrub(str(error))[:500],
            )
            logger.error("check-in %s to %s not sent, retry in %.0f s", checkin_id,
                         mask(row["phone"]), wait)  # fmt: skip
            return "failed"
        self.checkins.move(checkin_id, "sending", status="sent", sent_at=iso(now), last_error=None)
        self.sms.offer(row["phone"], [])  # a "2" now answers the check-in
        self._close_older(row, now)
        logger.info("check-in %s (%s) sent to %s", checkin_id, row["key"], mask(row["phone"]))
        return "sent"

    def _intro(self, row: Dict[str, Any], now: datetime) -> None:
        """The programme's first text, once: who is texting, how often, STOP and HELP."""
        if row["intro_sent_at"]:
            return
        with self.store.transaction() as conn:
            taken = conn.execute(
                "update checkin_enrolments set intro_sent_at = ? where id = ? and "
                "intro_sent_at is null",
                [iso(now), row["enrolment_id"]],
            ).rowcount
        if not taken:
            return
        body = fill(
            self.schedule.intro, count=len(self.schedule.entries), weeks=self.schedule.weeks
        )
        try:
            self._text(row, "intro", body, now)
        except outbound.OutboundError:
            with self.store.transaction() as conn:
                conn.execute(
                    "update checkin_enrolments set intro_sent_at = null where id = ?",
                    [row["enrolment_id"]],
                )
            raise

    def _close_older(self, row: Dict[str, Any], now: datetime) -> None:
        """A newer check-in went out: an older one still unanswered is missed."""
        for older in self.checkins.rows(
            _JOIN + "s.enrolment_id = ? and s.status = 'sent' and s.id != ?",
            [row["enrolment_id"], row["id"]],
        ):
            self._missed(older, now)

    # -- reminders and silence ------------------------------------------------------------

    def remind(self, row: Dict[str, Any]) -> str:
        now = self.clock()
        checkin_id = int(row["id"])
        if self.opted_out(row["phone"]):
            self.checkins.move(checkin_id, "sent", status="cancelled", last_error="opted out")
            self.checkins.complete_if_done(int(row["enrolment_id"]))
            return "cancelled"
        if not self.may_text(row, now):
            return "reminder_queued"
        if not self.checkins.set_reminder(checkin_id, None, "sending", now):
            return ""
        entry = self.schedule.entry(row["key"])
        body = fill(self.schedule.reminder, question=question_text(self.schedule, entry))
        try:
            self._text(row, "reminder", body, now)
        except outbound.OutboundError:
            self.checkins.set_reminder(checkin_id, "sending", None, None)
            return "reminder_failed"
        self.checkins.set_reminder(checkin_id, "sending", "sent", now)
        return "reminded"

    def miss_silent(self) -> None:
        now = self.clock()
        limits = self.schedule.limits
        for row in self.checkins.rows(
            _JOIN + "s.status = 'sent' and ((s.reminder_state in ('sent', 'unknown') and "
            "s.reminded_at <= ?) or s.sent_at <= ?)",
            [iso(now - limits.missed_after), iso(now - limits.give_up)],
        ):
            self._missed(row, now)

    def _missed(self, row: Dict[str, Any], now: datetime) -> None:
        checkin_id = int(row["id"])
        if self.opted_out(row["phone"]):
            self.checkins.move(checkin_id, "sent", status="cancelled", last_error="opted out")
        elif self.checkins.move(checkin_id, "sent", status="missed"):
            enrolment = self.checkins.enrolment(int(row["enrolment_id"]))
            assert enrolment is not None
            call_back(self.store, self.settings, enrolment, row, "no answer", now)
            self.counts["missed"] += 1
            logger.info(
                "check-in %s missed: %s is on the call list", checkin_id, mask(row["phone"])
            )
        self.checkins.complete_if_done(int(row["enrolment_id"]))

    def last_calls(self) -> None:
        """One last text, once, to a patient who left `last_call_after_missed` check-ins in a
        row unanswered: do they need help, or should we stop?"""
        after = self.schedule.limits.last_call_after_missed
        for row in self.checkins.rows(
            "select e.id as enrolment_id, e.phone, e.timezone from checkin_enrolments e "
            "where e.status = 'active' and e.last_call_at is null and (select count(*) from "
            "checkin_schedule s where s.enrolment_id = e.id and s.status = 'missed') >= ?",
            [after],
        ):
            done = [
                c["status"]
                for c in self.checkins.checkins(int(row["enrolment_id"]))
                if c["status"] in ("answered", "missed")
            ]
            now = self.clock()
            if done[-after:] != ["missed"] * after or self.opted_out(row["phone"]):
                continue
            if not self.may_text(row, now):
                continue
            with self.store.transaction() as conn:
                taken = conn.execute(
                    "update checkin_enrolments set last_call_at = ? where id = ? and "
                    "last_call_at is null",
                    [iso(now), row["enrolment_id"]],
                ).rowcount
            if not taken:
                continue
            try:
                self._text({**row, "id": None}, "last_call", fill(self.schedule.last_call), now)
            except outbound.OutboundError:
                with self.store.transaction() as conn:
                    conn.execute(
                        "update checkin_enrolments set last_call_at = null where id = ?",
                        [row["enrolment_id"]],
                    )
                continue
            self.counts["last_call"] += 1


def run_due(
    store: Store,
    settings: Settings,
    clock: Clock = system_clock,
    schedule: Optional[Schedule] = None,
    send: Optional[Send] = None,
) -> Dict[str, int]:
    """One check-in cycle (see the module's docstring); counts of what it did. Does nothing
    without outbound SMS settings (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER)."""
    if send is None and not outbound.configured(settings):
        return {}
    sender = Sender(store, settings, schedule or load_schedule(), clock, send or _default_send)
    return sender.run()


def warn_at_start(store: Store, settings: Settings) -> None:
    """Say at the worker's start what would stop check-ins going out."""
    try:
        load_schedule()
    except (OSError, ScheduleError) as error:
        logger.error("the check-in schedule cannot be used; no check-ins are sent: %s", error)
    active = len(CheckinStore(store).enrolments("active"))
    if active and not outbound.configured(settings):
        logger.warning(
            "%d check-in programme(s) are active but TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN or "
            "TWILIO_FROM_NUMBER is not set: their check-ins stay queued, not texted.",
            active,
        )
