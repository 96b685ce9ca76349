"""The red-flag tier vocabulary: the tiers, their order and their advice responses.

One home for these facts, imported by the channels, the escalations, the store and
the reconciler (and the red-flag NLU components, which read their tiers from their
lexicon today). Imports nothing from the project, so any layer may import it.

- `EMERGENCY` (call 911) and `URGENT` (call the clinic now) are the warning-sign
  tiers, `RED_FLAG_TIERS` most urgent first;
- `CALLBACK` is an escalation that is not a warning sign (the patient asked for a
  person); `TIER_ORDER` orders all three;
- each warning-sign tier has one advice response, chosen by rules in the Rasa
  server (`ADVICE_RESPONSES`, and back with `advice_tier`);
- `UNSPECIFIED` is the symptom recorded when a red flag names none.
"""

from __future__ import annotations

from typing import Dict, Iterable, Optional, Tuple

EMERGENCY = "emergency"
URGENT = "urgent"
CALLBACK = "callback"

RED_FLAG_TIERS: Tuple[str, ...] = (EMERGENCY, URGENT)
TIER_ORDER: Tuple[str, ...] = (EMERGENCY, URGENT, CALLBACK)

ADVICE_RESPONSES: Dict[str, str] = {
    EMERGENCY: "utter_red_flag_emergency",
    URGENT: "utter_red_flag_urgent",
}
_TIER_OF_RESPONSE: Dict[str, str] = {name: tier for tier, name in ADVICE_RESPONSES.items()}

UNSPECIFIED = "unspecified"


def advice_response(tier: str) -> str:
    """The response that tells a patient what to do now about a warning sign of `tier`."""
    return ADVICE_RESPONSES[tier]


def advice_tier(response: Optional[str]) -> Optional[str]:
    """The tier whose advice `response` is (`utter_red_flag_urgent` -> `urgent`), or None."""
    return _TIER_OF_RESPONSE.get(response or "")


def rank(tier: Optional[str]) -> int:
    """0 for the most urgent tier; unknown tiers and None rank after every known one."""
    return TIER_ORDER.index(tier) if tier in TIER_ORDER else len(TIER_ORDER)


def more_urgent(a: str, b: str) -> str:
    """The more urgent of two tiers (the first when equal)."""
    return a if rank(a) <= rank(b) else b


def most_urgent(tiers: Iterable[Optional[str]]) -> Optional[str]:
    """The most urgent known tier among `tiers`, or None."""
    known = [t for t in tiers if t in TIER_ORDER]
    return min(known, key=rank) if known else None


def red_flag_tier(value: Optional[str], default: str = URGENT) -> str:
    """`value` if it is a warning-sign tier, else `default` (an unknown tier is urgent)."""
    return value if value in RED_FLAG_TIERS else default
