"""What the website chat's widget receives: bot messages, urgent answers, the history.

Pure functions of the bot's messages and the settings (no socket, no server), used by
`bot.channels.web` for live messages and for the history a continued session shows.
Text goes out as it is; the widget shows it as text, never as markup.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.shared.core.events import BotUttered, UserUttered

from bot import replies
from bot.channels.web_page import tel_href
from bot.settings import get_settings
from bot.tiers import EMERGENCY, advice_tier

HISTORY_LIMIT = 200


def clinic_info() -> Dict[str, str]:
    """The clinic's name and numbers, for the widget's header and its offline notice."""
    s = get_settings()
    return {
        "name": s.clinic_name,
        "phone": s.clinic_phone,
        "phone_href": tel_href(s.clinic_phone),
        "after_hours_phone": s.after_hours_phone,
        "after_hours_href": tel_href(s.after_hours_phone),
    }


def urgent_info(tier: str) -> Dict[str, Any]:
    """What the widget shows beside an urgent answer: the tier and the numbers to call."""
    s = get_settings()
    emergency = {"label": replies.say("web_call_emergency"), "number": "911", "href": "tel:911"}
    clinic = {
        "label": replies.say("web_call_clinic"),
        "number": s.clinic_phone,
        "href": tel_href(s.clinic_phone),
    }
    after_hours = {
        "label": replies.say("web_call_after_hours"),
        "number": s.after_hours_phone,
        "href": tel_href(s.after_hours_phone),
    }
    calls = [emergency, clinic] if tier == EMERGENCY else [clinic, after_hours, emergency]
    return {"tier": tier, "calls": calls}


def bot_payload(message: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """What the widget receives for one bot message (live or from history).

    The text is sent as it is and the widget shows it as text, never as markup.
    """
    text = message.get("text") or ""
    buttons = message.get("buttons") or message.get("quick_replies") or []
    quick_replies = [
        {"title": str(b.get("title") or b["payload"]), "payload": str(b["payload"])}
        for b in buttons
        if isinstance(b, dict) and isinstance(b.get("payload"), str) and b["payload"]
    ]
    if not isinstance(text, str) or not (text or quick_replies):
        return None
    payload: Dict[str, Any] = {"text": text, "quick_replies": quick_replies}
    tier = advice_tier(message.get("utter_action"))
    if tier:
        payload["urgent"] = urgent_info(tier)
    return payload


def history(events: List[Any]) -> List[Dict[str, Any]]:
    """The conversation so far as the widget shows it: patient and assistant messages.

    External events (the opening `greet`) are not the patient's words and are left out.
    Quick replies are kept only on the last message, the only place they still apply.
    """
    shown: List[Dict[str, Any]] = []
    for event in events:
        if isinstance(event, UserUttered):
            if event.text and not (event.metadata or {}).get("is_external"):
                shown.append({"from": "user", "text": event.text})
        elif isinstance(event, BotUttered):
            payload = bot_payload(event.message())
            if payload:
                shown.append({"from": "bot", **payload})
    shown = shown[-HISTORY_LIMIT:]
    for message in shown[:-1]:
        message.pop("quick_replies", None)
    return shown
