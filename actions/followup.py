"""Actions that answer short follow-up questions in the context of the last topic."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.followups import TOPIC_SLOT, Answer, how_long, last_topic, procedure_followup


def _say(answer: Answer, dispatcher: CollectingDispatcher, before: Any) -> List[Dict[str, Any]]:
    for response in answer.responses:
        dispatcher.utter_message(response=response)
    return [] if answer.topic == before else [SlotSet(TOPIC_SLOT, answer.topic)]


class ActionAnswerHowLong(Action):
    """Answers "how long does that last?" about the topic just discussed."""

    def name(self) -> str:
        return "action_answer_how_long"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        topic = last_topic(tracker.events)
        return _say(how_long(topic), dispatcher, topic)


class ActionAnswerProcedureFollowup(Action):
    """Answers "and kyphoplasty?" by switching procedure within the current topic."""

    def name(self) -> str:
        return "action_answer_procedure_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        topic = last_topic(tracker.events)
        procedure = next(tracker.get_latest_entity_values("procedure"), None)
        return _say(procedure_followup(topic, procedure), dispatcher, topic)
