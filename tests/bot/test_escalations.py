import pytest

from bot.escalations import is_skip, normalise_phone, phone_from_sender, red_flag_turn
from tests.support.trackers import user_event


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("555 555 0123", "+15555550123"),
        ("(555) 555-0123", "+15555550123"),
        ("1-555-555-0123", "+15555550123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("my number is 555.555.0123", "+15555550123"),
    ],
)
def test_phone_numbers_are_normalised(text, number):
    assert normalise_phone(text) == number


@pytest.mark.parametrize(
    "text", ["12345", "call me", "555 555 012", "011 555 0123 4444", "", "x" * 100]
)
def test_non_numbers_are_refused(text):
    assert normalise_phone(text) is None


def test_skip_words():
    assert is_skip("Skip") and is_skip("no thanks") and not is_skip("555 555 0123")


def test_sms_conversations_carry_the_number():
    assert phone_from_sender("sms:+15555550123") == "+15555550123"
    assert phone_from_sender("rest:+15555550123") is None


def test_a_direct_report_takes_tier_and_symptoms_from_the_message():
    event = user_event(
        "report_symptom",
        "chest pain",
        entities=[
            {"entity": "red_flag_tier", "value": "emergency"},
            {"entity": "symptom", "value": "chest_pain"},
        ],
    )
    event["timestamp"] = 12.5
    turn = red_flag_turn("rest:a", [event], {})
    assert (turn.tier, turn.symptoms, turn.event_key) == (
        "emergency",
        ["chest_pain"],
        "rest:a:12.500000",
    )


def test_yes_to_are_you_having_this_now_uses_the_pending_question():
    turn = red_flag_turn(
        "rest:a",
        [user_event("affirm", "yes")],
        {"pending_tier": "urgent", "pending_symptoms": ["fever"]},
    )
    assert (turn.tier, turn.symptoms) == ("urgent", ["fever"])
