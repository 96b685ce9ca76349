"""What a red-flag turn is, and recording it: shared by the actions and the reconciler."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from bot.settings import Settings
from bot.store import Recorded, Store

SMS_PREFIX = "sms:"
UNSPECIFIED = "unspecified"
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


def is_skip(text: Any) -> bool:
    return isinstance(text, str) and text.strip().lower().strip(".!") in SKIP_WORDS


def last_user_event(events: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    return next((e for e in reversed(events) if e.get("event") == "user"), {})


def red_flag_turn(sender: str, events: Sequence[Dict[str, Any]], slots: Dict[str, Any]) -> Turn:
    """The latest turn as a red flag: a direct report, or "yes" to "are you having this now?"."""
    user = last_user_event(events)
    parse = user.get("parse_data") or {}
    intent = (parse.get("intent") or {}).get("name")
    entities = parse.get("entities") or []
    if intent == "report_symptom":
        tier = next((e["value"] for e in entities if e.get("entity") == "red_flag_tier"), None)
        symptoms = [e["value"] for e in entities if e.get("entity") == "symptom"]
    else:
        tier = slots.get("pending_tier")
        symptoms = list(slots.get("pending_symptoms") or [])
    return Turn(
        sender=sender,
        channel=user.get("input_channel") or "unknown",
        tier=tier if tier in ("emergency", "urgent") else "urgent",
        symptoms=sorted(set(symptoms)) or [UNSPECIFIED],
        message=user.get("text") or "",
        timestamp=float(user.get("timestamp") or 0.0),
    )


def callback_turn(sender: str, events: Sequence[Dict[str, Any]]) -> Turn:
    """The latest turn as a request to talk to a person."""
    user = last_user_event(events)
    return Turn(
        sender,
        user.get("input_channel") or "unknown",
        "callback",
        [],
        user.get("text") or "",
        float(user.get("timestamp") or 0.0),
    )


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
        notifiers=settings.notifiers,
    )
    phone = phone_from_sender(turn.sender)
    if phone:
        store.set_callback_number(recorded.escalation_id, phone)
    return recorded
