"""The callback-number form on the web: validate the number, then save it.

The form never traps a patient. A question asked instead of a number is answered
by the rules (data/rules/callback.yml) and the form asks again; "skip", "no" or
"don't call me" end it kindly; and the second answer that is not a number, or the
second question, ends it too, with the clinic's number to call instead.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.escalations import is_skip, normalise_phone
from bot.store import get_store

DECLINE_INTENTS = {"deny", "decline_callback"}
MAX_FAILURES = 2  # answers that are not a number, or questions instead, before the form ends


def failures(tracker: Tracker) -> int:
    return int(tracker.get_slot("callback_failures") or 0) + 1


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
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if is_skip(slot_value) or intent in DECLINE_INTENTS:
            return {"callback_number": "skip"}
        text = tracker.latest_message.get("text") or ""
        number = normalise_phone(slot_value) or normalise_phone(text)
        if number:
            return {"callback_number": number}
        count = failures(tracker)
        if count >= MAX_FAILURES:
            return {"callback_number": "skip", "callback_failures": count}
        dispatcher.utter_message(response="utter_invalid_callback_number")
        return {"callback_number": None, "callback_failures": count}


class ActionCallbackDigression(Action):
    """After a question answered while the form waits: count it, and at the second
    one fill the number with "skip" so the form ends instead of asking again."""

    def name(self) -> str:
        return "action_callback_digression"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        count = failures(tracker)
        events = [SlotSet("callback_failures", count)]
        if count >= MAX_FAILURES:
            events.append(SlotSet("callback_number", "skip"))
        return events


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
        elif tracker.get_slot("advised_tier") == "emergency":
            # "ok calling now, thanks" after 911 advice: "call the clinic yourself" would
            # step the advice down; keep it at 911
            dispatcher.utter_message(response="utter_still_emergency")
        else:
            dispatcher.utter_message(response="utter_callback_skipped")
        return []
