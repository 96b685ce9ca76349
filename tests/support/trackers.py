"""Events and sdk trackers as the action server receives them, for action and logic tests."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker


def user_event(
    intent: str,
    text: str = "",
    faq_key: Optional[str] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
) -> Dict[str, Any]:
    """A user event as the action server receives it."""
    parse: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
    }
    if faq_key:
        parse["response_selector"] = {
            "faq": {"response": {"intent_response_key": f"faq/{faq_key}"}}
        }
    return {"event": "user", "text": text, "parse_data": parse}


def make_tracker(events: List[Dict[str, Any]], slots: Optional[Dict[str, Any]] = None) -> Tracker:
    """An sdk Tracker whose latest message is the last user event."""
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {})
    return Tracker(
        sender_id="test",
        slots=slots or {},
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name=None,
    )
