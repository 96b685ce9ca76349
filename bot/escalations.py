"""What a red-flag turn is, and recording it: shared by the actions and the reconciler."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from bot.escalation_chain import first_notifiers
from bot.settings import Settings
from bot.store import Recorded, Store
from bot.tiers import CALLBACK, UNSPECIFIED, red_flag_tier

SMS_PREFIX = "sms:"
SKIP_WORDS = {"skip", "no", "nope", "no thanks", "dont", "don't", "none", "not now", "cancel"}


@dataclass(frozen=True)
class Turn:
    """One red-flag (or callback) turn of a conversation."""

    sender: str
    channel: str
    tier: str
    symptoms: List[str]
    message: str
    timestamp: float

    @property
    def event_key(self) -> str:
        return event_key(self.sender, self.timestamp)


def event_key(sender: str, timestamp: float) -> str:
    """Identifies a user turn in the tracker store: conversation id and timestamp."""
    return f"{sender}:{float(timestamp):.6f}"


def phone_from_sender(sender: str) -> Optional[str]:
    """The patient's own number for SMS conversations (`sms:+15551234567`)."""
    return sender[len(SMS_PREFIX) :] if sender.startswith(SMS_PREFIX) else None


def normalise_phone(text: str) -> Optional[str]:
    """A callback number in E.164 form, or None. Ten digits are taken as US/Canada."""
    if not isinstance(text, str) or len(text) > 80:
        return None
    groups = re.findall(r"\+?\d[\d\s().-]{5,}\d", text)
    if len(groups) != 1:
        return None
    number = groups[0]
    digits = re.sub(r"\D", "", number)
    if number.startswith("+") and 8 <= len(digits) <= 15:
        return "+" + digits
    if len(digits) == 10 and digits[0] not in "01":
        return "+1" + digits
    if len(digits) == 11 and digits[0] == "1" and digits[1] not in "01":
        return "+" + digits
    return None


_DECLINES = re.compile(
    r"\b(skip( it)?|no( phone)? call|(do not|don'?t|dont|rather not|won'?t) (want|need|get)"
    r"( a| any)?( phone)? call|don'?t call|dont call|no need to call|not call me)\b"
)


def is_skip(text: Any) -> bool:
    """A reply that turns the call down: a skip word alone ("skip", "no thanks") or a phrase
    ("skip it, my daughter is taking me in", "we'd rather not get a call", "dont call me")."""
    if not isinstance(text, str):
        return False
    return text.strip().lower().strip(".!") in SKIP_WORDS or bool(_DECLINES.search(text.lower()))


def last_user_event(events: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    return next((e for e in reversed(events) if e.get("event") == "user"), {})


def entity_values(user: Dict[str, Any], *names: str) -> List[str]:
    """The values of a user event's entities of the given names, in message order."""
    entities = (user.get("parse_data") or {}).get("entities") or []
    return [e["value"] for e in entities if e.get("entity") in names]


def user_turn(sender: str, user: Dict[str, Any], tier: str, symptoms: Sequence[str]) -> Turn:
    """A turn from a user event as the tracker stores it (the action server's events
    and the `data` column of Rasa's SQL tracker store have the same shape)."""
    return Turn(
        sender=sender,
        channel=user.get("input_channel") or "unknown",
        tier=tier,
        symptoms=list(symptoms),
        message=user.get("text") or "",
        timestamp=float(user.get("timestamp") or 0.0),
    )


def red_flag_turn(sender: str, events: Sequence[Dict[str, Any]], slots: Dict[str, Any]) -> Turn:
    """The latest turn as a red flag: a direct report, or "yes" to "are you having this now?"."""
    user = last_user_event(events)
    intent = ((user.get("parse_data") or {}).get("intent") or {}).get("name")
    if intent == "report_symptom":
        tier = next(iter(entity_values(user, "red_flag_tier")), None)
        symptoms = entity_values(user, "symptom")
    else:
        tier = slots.get("pending_tier")
        symptoms = list(slots.get("pending_symptoms") or [])
    return user_turn(sender, user, red_flag_tier(tier), sorted(set(symptoms)) or [UNSPECIFIED])


def callback_turn(sender: str, events: Sequence[Dict[str, Any]]) -> Turn:
    """The latest turn as a request to talk to a person."""
    return user_turn(sender, last_user_event(events), CALLBACK, [])


def record(store: Store, settings: Settings, turn: Turn, source: str) -> Recorded:
    """Write the turn (and its notifications) to the database; idempotent per turn."""
    recorded = store.record(
        sender=turn.sender,
        channel=turn.channel,
        tier=turn.tier,
        symptoms=turn.symptoms,
        message=turn.message,
        event_key=turn.event_key,
        source=source,
        notifiers=first_notifiers(settings, turn.tier),
    )
    phone = phone_from_sender(turn.sender)
    if phone:
        store.set_callback_number(recorded.escalation_id, phone)
    return recorded
