"""Setting the intent from a rule-based component, the one way every component does it."""

from __future__ import annotations

from typing import Any, Dict

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


def put_first(message: Message, name: str, confidence: float = 1.0) -> Dict[str, Any]:
    """Make `name` the message's intent and the head of its ranking (the classifier's other
    guesses kept after it, for the components and policies that read them); returns it."""
    intent = {"name": name, "confidence": confidence}
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
    return intent
