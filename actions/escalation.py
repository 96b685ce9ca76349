"""Escalation: record the warning sign first, then tell the patient the clinic knows."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import escalations
from bot.settings import get_settings
from bot.store import get_store

CALLBACK_FORM = "callback_form"


def ask_for_number(tracker: Tracker, escalation_id: int) -> List[Dict[str, Any]]:
    """Web patients are asked for a callback number once; SMS senders already gave one."""
    known = tracker.get_slot("callback_number")
    if escalations.phone_from_sender(tracker.sender_id):
        return []
    if known and known != "skip":
        get_store().set_callback_number(escalation_id, known)
        return []
    if known == "skip":
        return []
    return [SlotSet("callback_failures", 0), FollowupAction(CALLBACK_FORM)]


class ActionEscalate(Action):
    """Writes the red flag to the database, then tells the patient the clinic was told."""

    def name(self) -> str:
        return "action_escalate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        turn = escalations.red_flag_turn(tracker.sender_id, tracker.events, tracker.slots)
        recorded = escalations.record(get_store(), get_settings(), turn, source="action")
        dispatcher.utter_message(response=f"utter_escalated_{turn.tier}")
        return [
            SlotSet("escalation_id", recorded.escalation_id),
            # the next turns keep this advice (data/rules/after_advice.yml), also
            # after a yes to "Are you having this now?", which names no tier itself
            SlotSet("advised_tier", turn.tier),
            *ask_for_number(tracker, recorded.escalation_id),
        ]


class ActionRequestCallback(Action):
    """Records a request to talk to a person as a callback at a non-urgent tier."""

    def name(self) -> str:
        return "action_request_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        turn = escalations.callback_turn(tracker.sender_id, tracker.events)
        recorded = escalations.record(get_store(), get_settings(), turn, source="action")
        dispatcher.utter_message(response="utter_callback_requested")
        return [
            SlotSet("escalation_id", recorded.escalation_id),
            *ask_for_number(tracker, recorded.escalation_id),
        ]
