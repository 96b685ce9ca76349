import asyncio

from rasa_sdk.events import SlotSet

from actions.followup import ActionAnswerHowLong, ActionAnswerProcedureFollowup
from tests.support.trackers import make_tracker, user_event


def test_how_long_after_soreness(dispatcher):
    tracker = make_tracker(
        [
            user_event("faq", "is it sore after", "soreness"),
            user_event("followup_how_long", "how long does that last"),
        ]
    )
    events = asyncio.run(ActionAnswerHowLong().run(dispatcher, tracker, {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_how_long_soreness"]
    assert events == []


def test_and_kyphoplasty_after_what_is_vertebroplasty(dispatcher):
    entity = {"entity": "procedure", "value": "kyphoplasty"}
    tracker = make_tracker(
        [
            user_event("faq", "what is vertebroplasty", "what_is_vertebroplasty"),
            user_event("followup_procedure", "and kypho?", entities=[entity]),
        ]
    )
    events = asyncio.run(ActionAnswerProcedureFollowup().run(dispatcher, tracker, {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_faq/what_is_kyphoplasty"]
    assert events == [SlotSet("topic", "what_is_kyphoplasty")]


def test_procedure_followup_without_context_asks(dispatcher):
    tracker = make_tracker([user_event("followup_procedure", "what about the other one")])
    asyncio.run(ActionAnswerProcedureFollowup().run(dispatcher, tracker, {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_which_procedure"]
