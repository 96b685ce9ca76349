import asyncio

from rasa_sdk.events import FollowupAction, SlotSet

from actions.callback import ActionSaveCallback, ValidateCallbackForm
from actions.escalation import ActionEscalate, ActionRequestCallback
from bot.store import get_store
from tests.support.trackers import make_tracker, user_event


def report(sender="rest:web1"):
    event = user_event(
        "report_symptom",
        "my legs are numb",
        entities=[
            {"entity": "red_flag_tier", "value": "urgent"},
            {"entity": "symptom", "value": "numbness"},
        ],
    )
    event.update(timestamp=100.0, input_channel="rest")
    tracker = make_tracker([event])
    tracker.sender_id = sender
    return tracker


def test_escalation_is_written_before_the_patient_is_told(dispatcher):
    events = asyncio.run(ActionEscalate().run(dispatcher, report(), {}))
    [row] = get_store().list("open")
    assert row["tier"] == "urgent" and row["symptoms"] == ["numbness"] and row["channel"] == "rest"
    assert [m["response"] for m in dispatcher.messages] == ["utter_escalated_urgent"]
    assert SlotSet("escalation_id", row["id"]) in events
    assert FollowupAction("callback_form") in events


def test_sms_escalation_keeps_the_number_and_asks_nothing(dispatcher):
    events = asyncio.run(ActionEscalate().run(dispatcher, report("sms:+15555550123"), {}))
    [row] = get_store().list("open")
    assert row["callback_number"] == "+15555550123"
    assert FollowupAction("callback_form") not in events


def test_running_twice_for_one_turn_records_once(dispatcher):
    asyncio.run(ActionEscalate().run(dispatcher, report(), {}))
    asyncio.run(ActionEscalate().run(dispatcher, report(), {}))
    assert len(get_store().list()) == 1


def test_a_callback_request_uses_the_same_record_at_a_lower_tier(dispatcher):
    tracker = make_tracker([user_event("ask_human", "can someone call me")])
    asyncio.run(ActionRequestCallback().run(dispatcher, tracker, {}))
    [row] = get_store().list("open")
    assert row["tier"] == "callback" and row["symptoms"] == []


def test_callback_form_validates_and_saves(dispatcher):
    validate = ValidateCallbackForm()
    assert validate.validate_callback_number("555-555-0123", dispatcher, None, {}) == {
        "callback_number": "+15555550123"
    }
    assert validate.validate_callback_number("skip", dispatcher, None, {}) == {
        "callback_number": "skip"
    }
    assert validate.validate_callback_number("tomorrow", dispatcher, None, {}) == {
        "callback_number": None
    }
    assert dispatcher.messages[-1]["response"] == "utter_invalid_callback_number"
    asyncio.run(ActionEscalate().run(dispatcher, report(), {}))
    tracker = make_tracker([], slots={"callback_number": "+15555550123", "escalation_id": 1})
    asyncio.run(ActionSaveCallback().run(dispatcher, tracker, {}))
    assert get_store().get(1)["callback_number"] == "+15555550123"
    assert dispatcher.messages[-1]["response"] == "utter_callback_saved"
