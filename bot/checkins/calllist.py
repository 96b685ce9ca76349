"""Putting a patient on the clinic's call list: escalations from check-ins.

A worrying answer, an answer that cannot be read, or silence after the check-in and its
reminder becomes a callback-tier escalation (a nurse calls within a business day), with
the answers so far attached, through the same store and notifiers as every escalation.
A warning sign in a reply is recorded exactly as in the chat (`bot.escalations.record`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List

from bot import escalations
from bot.checkins.store import CheckinStore
from bot.settings import Settings
from bot.store import Store
from bot.tiers import CALLBACK

SOURCE = "checkins"


def conversation_id(phone: str) -> str:
    """The SMS conversation of `phone` (`sms:+E164`), where escalations are filed."""
    return escalations.SMS_PREFIX + phone


def summary(checkins: CheckinStore, enrolment: Dict[str, Any], reason: str) -> str:
    """What the nurse reads: the reason, then each check-in's answer so far."""
    parts: List[str] = [f"Check-in ({enrolment['procedure']}): {reason}."]
    for row in checkins.checkins(int(enrolment["id"])):
        if row["answer_kind"] == "pain":
            parts.append(f"{row['key']}: pain {row['answer_value']}/10")
        elif row["answer_kind"]:
            parts.append(f"{row['key']}: {row['answer_value'] or row['answer_kind']}")
        elif row["status"] in ("missed", "expired"):
            parts.append(f"{row['key']}: {row['status']}")
    return " ".join(parts[:1]) + (" Answers: " + "; ".join(parts[1:]) if parts[1:] else "")


def call_back(
    store: Store,
    settings: Settings,
    enrolment: Dict[str, Any],
    checkin: Dict[str, Any],
    reason: str,
    now: datetime,
) -> int:
    """Record a callback escalation for `checkin` (once per check-in and reason)."""
    checkins = CheckinStore(store)
    phone = str(enrolment["phone"])
    recorded = store.record(
        sender=conversation_id(phone),
        channel="sms",
        tier=CALLBACK,
        symptoms=[f"check-in {checkin['key']}: {reason}"],
        message=summary(checkins, enrolment, reason),
        event_key=f"checkin:{checkin['id']}:{reason}",
        source=SOURCE,
        notifiers=settings.notifiers,
        now=now,
    )
    store.set_callback_number(recorded.escalation_id, phone)
    checkins.link_alert(int(checkin["id"]), recorded.escalation_id)
    return recorded.escalation_id


def red_flag(
    store: Store,
    settings: Settings,
    phone: str,
    tier: str,
    symptoms: List[str],
    text: str,
    now: datetime,
) -> int:
    """Record a warning sign in a check-in reply, as the chat's escalation action does."""
    turn = escalations.Turn(
        sender=conversation_id(phone),
        channel="sms",
        tier=tier,
        symptoms=symptoms,
        message=text,
        timestamp=now.timestamp(),
    )
    return escalations.record(store, settings, turn, source=SOURCE).escalation_id
