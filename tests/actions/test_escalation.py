import asyncio

import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions.callback import ActionCallbackDigression, ActionSaveCallback, ValidateCallbackForm
from actions.escalation import ActionEscalate, ActionRequestCallback
from bot.store import get_store
from tests.support.trackers import make_tracker, user_event


@pytest.mark.parametrize(
    "text, intent",
    [
        ("no thanks, no call", "deny"),
        ("we'd rather not get a call", "out_of_scope"),
        ("nah", "decline_callback"),
    ],
)
def test_declining_in_words_or_by_intent_skips_the_call(dispatcher, text, intent):
    assert ValidateCallbackForm().validate_callback_number(
        text, dispatcher, said(text, intent), {}
    ) == {"callback_number": "skip"}


def test_the_second_answer_that_is_not_a_number_ends_the_form(dispatcher):
    result = ValidateCallbackForm().validate_callback_number(
        "hmm", dispatcher, said("hmm", failures=1), {}
    )
    assert result == {"callback_number": "skip", "callback_failures": 2}
    assert not dispatcher.messages  # no "that does not look like a number" again


@pytest.mark.parametrize(
    "tier, said_", [("emergency", "utter_still_emergency"), ("urgent", "utter_callback_skipped")]
)
def test_a_skipped_callback_keeps_the_advice_at_its_tier(dispatcher, tier, said_):
    tracker = make_tracker([], slots={"callback_number": "skip", "advised_tier": tier})
    asyncio.run(ActionSaveCallback().run(dispatcher, tracker, {}))
    assert [m["response"] for m in dispatcher.messages] == [said_]


def test_a_digression_is_counted_and_the_second_ends_the_form(dispatcher):
    first = asyncio.run(ActionCallbackDigression().run(dispatcher, said("q", "faq"), {}))
    assert first == [{"event": "slot", "timestamp": None, "name": "callback_failures", "value": 1}]
    second = asyncio.run(
        ActionCallbackDigression().run(dispatcher, said("q", "faq", failures=1), {})
    )
    assert {"name": "callback_number", "value": "skip"}.items() <= second[-1].items()


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


def said(text: str, intent: str = "out_of_scope", failures: int = 0):
    """A tracker whose latest message is `text`, classified as `intent`."""
    user = {"event": "user", "text": text, "parse_data": {"text": text, "intent": {"name": intent}}}
    return make_tracker([user], slots={"callback_failures": failures})


def test_callback_form_validates_and_saves(dispatcher):
    validate = ValidateCallbackForm()
    check = validate.validate_callback_number
    assert check("555-555-0123", dispatcher, said("555-555-0123"), {}) == {
        "callback_number": "+15555550123"
    }
    assert check("skip", dispatcher, said("skip"), {}) == {"callback_number": "skip"}
    assert check("tomorrow", dispatcher, said("tomorrow"), {}) == {
        "callback_number": None,
        "callback_failures": 1,
    }
    assert dispatcher.messages[-1]["response"] == "utter_invalid_callback_number"
    asyncio.run(ActionEscalate().run(dispatcher, report(), {}))
    tracker = make_tracker([], slots={"callback_number": "+15555550123", "escalation_id": 1})
    asyncio.run(ActionSaveCallback().run(dispatcher, tracker, {}))
    assert get_store().get(1)["callback_number"] == "+15555550123"
    assert dispatcher.messages[-1]["response"] == "utter_callback_saved"
