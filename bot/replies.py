"""The few replies a channel gives on its own, before or instead of the assistant.

The texts are content, in `bot/replies.yml` (checked by tests/test_content.py like
the domain's answers); this fills in the clinic's details from the settings. The
urgent advice a channel gives on its own is the domain's own response for the tier.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict

import yaml

from bot.settings import PROJECT_ROOT, get_settings
from bot.tiers import advice_response

REPLIES_PATH = Path(__file__).with_name("replies.yml")
DOMAIN_PATH = PROJECT_ROOT / "domain.yml"


@lru_cache(maxsize=1)
def catalogue() -> Dict[str, Dict[str, Any]]:
    """Every reply in bot/replies.yml by name: `text`, `channels`, `sources`."""
    return yaml.safe_load(REPLIES_PATH.read_text(encoding="utf-8"))["replies"]


def say(name: str, **values: Any) -> str:
    """The reply called `name`, filled from the settings (and `values`)."""
    return catalogue()[name]["text"].format(**get_settings().response_values(), **values)


@lru_cache(maxsize=1)
def _domain_responses() -> Dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(DOMAIN_PATH.read_text(encoding="utf-8"), Loader=loader)["responses"]


def preload() -> None:
    """Read the replies and the domain's advice now (a channel calls this when it starts),
    so the first warning sign is not answered late while YAML is parsed."""
    catalogue()
    _domain_responses()


def red_flag_advice(tier: str) -> str:
    """What to do now about a warning sign: the domain's SMS variant of the tier's advice
    response (utter_red_flag_emergency / utter_red_flag_urgent), filled in."""
    variants = _domain_responses()[advice_response(tier)]
    [text] = [v["text"] for v in variants if v.get("channel") == "sms"]
    return text.format(**get_settings().response_values())


def unusable_message() -> str:
    """Reply to a message with no words in it (empty, emoji, binary)."""
    return say("unusable_message")


def web_trouble() -> str:
    """Said in the website chat when the assistant failed to answer a message."""
    return say("web_trouble")


def not_kept() -> str:
    """Said after an answer when the conversation store could not keep the turn."""
    return say("not_kept")


def truncated_note() -> str:
    """Said after answering a message that was too long to read in full."""
    return say("truncated_note")


def sms_still_working() -> str:
    """Sent when the answer takes longer than Twilio waits; the answer follows as a text."""
    return say("sms_still_working")


def sms_trouble() -> str:
    """Sent when the assistant could not answer at all."""
    return say("sms_trouble")


def sms_opted_out() -> str:
    """The one confirmation of STOP (and the other opt-out words)."""
    return say("sms_opted_out")


def sms_opt_out_ask() -> str:
    """Asked once when a message may be asking for the texts to stop."""
    return say("sms_opt_out_ask")


def sms_opted_in() -> str:
    """The confirmation of START, UNSTOP or YES after an opt-out."""
    return say("sms_opted_in")


def sms_help() -> str:
    """The answer to HELP or INFO: who this is, how to reach a person, how to opt out."""
    return say("sms_help")


def sms_media() -> str:
    """The answer to a picture or other file sent without words."""
    return say("sms_media")


def patient_still_trying() -> str:
    """Sent once (a text, or in the open website chat) to a patient whose warning sign nobody
    has acknowledged in time."""
    return say("patient_still_trying")
