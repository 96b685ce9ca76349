"""The callback-number form on the web: validate the number, then save it."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.escalations import is_skip, normalise_phone
from bot.store import get_store


class ValidateCallbackForm(FormValidationAction):
    """Accepts a phone number with its area code, or 'skip'."""

    def name(self) -> str:
        return "validate_callback_form"

    def validate_callback_number(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        if is_skip(slot_value):
            return {"callback_number": "skip"}
        number = normalise_phone(slot_value)
        if number:
            return {"callback_number": number}
        dispatcher.utter_message(response="utter_invalid_callback_number")
        return {"callback_number": None}


class ActionSaveCallback(Action):
    """Saves the callback number on the escalation and tells the patient."""

    def name(self) -> str:
        return "action_save_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        number = tracker.get_slot("callback_number")
        escalation_id = tracker.get_slot("escalation_id")
        if number and number != "skip" and escalation_id:
            get_store().set_callback_number(int(escalation_id), number)
            dispatcher.utter_message(response="utter_callback_saved")
        else:
            dispatcher.utter_message(response="utter_callback_skipped")
        return []
