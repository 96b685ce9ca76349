"""A text from an enrolled number with a check-in open, read as its answer.

Called by the SMS channel (bot/channels/sms.py) for every message that is not a carrier
keyword and not a pick of numbered buttons offered since the check-in. In order:
1. a warning sign (the deterministic red-flag detector, bot/nlu/red_flags.py) is
   recorded as an escalation exactly as the chat records one, and the conversation
   answers it as it answers any warning sign (the urgent advice);
2. a question ("can I shower yet?") goes to the conversation; the check-in stays open
   and the answer ends with a line asking for the check-in's answer;
3. a score, a choice or words are the answer: pain at or over the schedule's line, a
   rise since the last score, or an option that alerts ("worse", "a new problem") puts
   the patient on the call list; the reply is the schedule's text for that day;
4. anything else is asked again once; a second unreadable reply is kept as the answer
   and put on the call list, so a person reads it.
The reply's words are kept (cut to 500 characters) for the clinic; none is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from bot.channels.sms_format import mask
from bot.checkins import answers
from bot.checkins.calllist import call_back, red_flag
from bot.checkins.schedule import Entry, Schedule, fill, load_schedule
from bot.checkins.store import CheckinStore
from bot.clock import Clock, system_clock
from bot.settings import Settings, get_settings
from bot.store import Store, get_store, iso

logger = logging.getLogger(__name__)

RED_FLAG = "red_flag"


@dataclass(frozen=True)
class Outcome:
    """What the SMS channel does with the message: `texts` is the whole answer, or None to
    let the conversation answer it, followed by `after`."""

    texts: Optional[List[str]]
    after: List[str] = field(default_factory=list)
    kind: str = ""


def warning_sign(text: str, settings: Settings) -> Tuple[Optional[str], List[str]]:
    """The red-flag tier and symptoms the deterministic detector finds in `text`."""
    from bot.nlu.red_flags import detector, fever_threshold_f

    found = detector(fever_threshold_f(settings.fever_threshold)).detect(text)
    return found.tier, found.symptoms


class Replies:
    """Reads replies to check-ins for one store, schedule and clock."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        schedule: Schedule,
        clock: Clock = system_clock,
    ) -> None:
        self.store = store
        self.settings = settings
        self.schedule = schedule
        self.clock = clock
        self.checkins = CheckinStore(store)

    def open_for(self, phone: str) -> Optional[Tuple[Dict[str, Any], Dict[str, Any], Entry]]:
        """(enrolment, open check-in, its schedule entry) for `phone`, or None."""
        enrolment = self.checkins.active_for(phone)
        if not enrolment:
            return None
        checkin = self.checkins.open_checkin(int(enrolment["id"]))
        if not checkin:
            return None
        try:
            return enrolment, checkin, self.schedule.entry(checkin["key"])
        except KeyError:
            return None

    def handle(self, phone: str, text: str, message_sid: str) -> Optional[Outcome]:
        """The outcome for a text from `phone`, or None when no check-in is open for it."""
        found = self.open_for(phone)
        if not found:
            return None
        enrolment, checkin, entry = found
        now = self.clock()
        tier, symptoms = warning_sign(text, self.settings)
        if tier:
            self._keep(enrolment, checkin, message_sid, text, answers.Reading(RED_FLAG, tier))
            self._answered(checkin, RED_FLAG, tier, alert=True)
            escalation_id = red_flag(self.store, self.settings, phone, tier, symptoms, text, now)
            self.checkins.link_alert(int(checkin["id"]), escalation_id)
            self.checkins.complete_if_done(int(enrolment["id"]))
            logger.info("check-in %s: a warning sign from %s", checkin["id"], mask(phone))
            return Outcome(None, kind=RED_FLAG)
        reading = answers.read(text, entry.ask, self.schedule.options)
        if not self._keep(enrolment, checkin, message_sid, text, reading):
            return Outcome([], kind="duplicate")
        if reading.kind == answers.QUESTION:
            how = self.schedule.answers[entry.ask]["how"]
            return Outcome(None, [fill(f"{self.schedule.resume} {how}")], kind=reading.kind)
        reason = self._worry(enrolment, checkin, reading)
        if reading.kind == answers.FREE_TEXT:
            if self.checkins.unclear_reply(int(checkin["id"])) < 2:
                return Outcome([fill(self.schedule.answers[entry.ask]["unclear"])], kind="unclear")
            reason = "answer not understood"
        if not self._answered(checkin, reading.kind, reading.value, alert=bool(reason)):
            return Outcome([], kind="duplicate")
        if reason:
            call_back(self.store, self.settings, enrolment, checkin, reason, now)
            logger.info("check-in %s: %s is on the call list", checkin["id"], mask(phone))
        self.checkins.complete_if_done(int(enrolment["id"]))
        reply = self.schedule.alert_reply if reason else entry.reply
        return Outcome([fill(reply)], kind=reading.kind)

    def _worry(
        self, enrolment: Dict[str, Any], checkin: Dict[str, Any], reading: answers.Reading
    ) -> str:
        """Why the answer needs a call ("" when it does not)."""
        score = reading.score
        if score is not None:
            if score >= self.schedule.pain_alert_at:
                return f"pain {score}/10"
            last = self.checkins.last_score(int(enrolment["id"]), int(checkin["id"]))
            if last is not None and score - last >= self.schedule.pain_alert_rise:
                return f"pain up from {last} to {score}"
        if reading.alert:
            return "worse or a new problem" if score is not None else str(reading.value)
        return ""

    def _keep(
        self,
        enrolment: Dict[str, Any],
        checkin: Dict[str, Any],
        message_sid: str,
        text: str,
        reading: answers.Reading,
    ) -> bool:
        return self.checkins.add_reply(
            enrolment_id=int(enrolment["id"]),
            checkin_id=int(checkin["id"]),
            message_sid=message_sid,
            text=text,
            kind=reading.kind,
            value=reading.value,
            alert=reading.alert,
            now=self.clock(),
        )

    def _answered(self, checkin: Dict[str, Any], kind: str, value: Any, alert: bool) -> bool:
        return self.checkins.move(
            int(checkin["id"]),
            "sent",
            status="answered",
            answered_at=iso(self.clock()),
            answer_kind=kind,
            answer_value=None if value is None else str(value),
            alert=int(alert),
        )


def handle_reply(
    phone: str, text: str, message_sid: str, clock: Clock = system_clock
) -> Optional[Outcome]:
    """The SMS channel's hook: the outcome for a text, or None (no check-in open, or the
    check-ins could not be read: the conversation then answers as usual)."""
    try:
        settings = get_settings()
        replies = Replies(get_store(), settings, load_schedule(), clock)
        return replies.handle(phone, text, message_sid)
    except Exception:
        logger.exception("a check-in reply from %s could not be read", mask(phone))
        return None
