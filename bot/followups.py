"""Context follow-ups: "how long does that last?", "and kyphoplasty?".

The topic is the key of the last FAQ answer in the current session (the
ResponseSelector's `faq/<key>`), or the last one a follow-up answered.
Every name returned is a response of the merged domain (domain.yml, and data/responses/
for the `utter_faq/...` answers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, Optional, Tuple

TOPIC_SLOT = "topic"

# topic -> the short answer to "how long?" about it
HOW_LONG: Dict[str, str] = {
    "activity": "activity",
    "anesthesia": "procedure_duration",
    "cement_lifetime": "cement_lifetime",
    "difference": "procedure_duration",
    "going_home": "time_at_clinic",
    "ice_pack": "ice_pack",
    "pain_relief_timing": "pain_relief_timing",
    "preparation": "time_at_clinic",
    "procedure_duration": "procedure_duration",
    "procedure_steps": "procedure_duration",
    "shower": "shower",
    "soreness": "soreness",
    "time_at_clinic": "time_at_clinic",
    "timing": "timing",
    "what_is_kyphoplasty": "procedure_duration",
    "what_is_vertebroplasty": "procedure_duration",
}

# topics whose own answer (data/responses/aftercare.yml) already says how long or when, or
# who decides it: "how long do i keep taking the laxative?" repeats that answer
ANSWER_SAYS_HOW_LONG = {
    "alcohol",
    "bathing_swimming",
    "blood_thinners",
    "brace",
    "constipation",
    "driving_self",
    "eating_before",
    "physical_therapy",
    "return_to_work",
    "sex",
    "sitting",
    "stairs",
    "stitches_dressing",
    "travel_flying",
}

PROCEDURES = ("vertebroplasty", "kyphoplasty")
# topics whose answer is about one procedure: a follow-up switches to the other
ABOUT_ONE_PROCEDURE = {"what_is_vertebroplasty", "what_is_kyphoplasty", "difference"}
# topics whose answer already compares the two procedures
COMPARES_BOTH = {"procedure_steps", "success_rate"}


@dataclass(frozen=True)
class Answer:
    """Responses to utter, in order, and the topic the conversation is now on."""

    responses: Tuple[str, ...]
    topic: Optional[str]


def last_topic(events: Iterable[Dict[str, Any]]) -> Optional[str]:
    """The topic last answered in the current session, newest first."""
    for event in reversed(list(events)):
        kind = event.get("event")
        if kind == "session_started":
            return None
        if kind == "slot" and event.get("name") == TOPIC_SLOT and event.get("value"):
            return str(event["value"])
        if kind == "user":
            key = _faq_key(event.get("parse_data") or {})
            if key:
                return key
    return None


def _faq_key(parse_data: Dict[str, Any]) -> Optional[str]:
    if (parse_data.get("intent") or {}).get("name") != "faq":
        return None
    selected = (parse_data.get("response_selector") or {}).get("faq") or {}
    full = (selected.get("response") or {}).get("intent_response_key") or ""
    return full.split("/", 1)[1] if "/" in full else None


def how_long(topic: Optional[str]) -> Answer:
    """Answer "how long?" about the topic, or ask which duration is meant."""
    if topic in HOW_LONG:
        return Answer((f"utter_how_long_{HOW_LONG[topic]}",), topic)
    if topic in ANSWER_SAYS_HOW_LONG:
        return Answer((f"utter_faq/{topic}",), topic)
    return Answer(("utter_ask_which_duration",), topic)


def procedure_followup(topic: Optional[str], procedure: Optional[str]) -> Answer:
    """Answer "and kyphoplasty?" / "what about the other one?" in context."""
    if procedure not in PROCEDURES:
        procedure = _other_procedure(topic)
        if procedure is None:
            return Answer(("utter_ask_which_procedure",), topic)
    if topic is None or topic in ABOUT_ONE_PROCEDURE:
        return Answer((f"utter_faq/what_is_{procedure}",), f"what_is_{procedure}")
    if topic in COMPARES_BOTH:
        return Answer((f"utter_faq/{topic}",), topic)
    return Answer(("utter_same_for_both", f"utter_faq/{topic}"), topic)


def _other_procedure(topic: Optional[str]) -> Optional[str]:
    if topic == "what_is_vertebroplasty":
        return "kyphoplasty"
    if topic == "what_is_kyphoplasty":
        return "vertebroplasty"
    return None
