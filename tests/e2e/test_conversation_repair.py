"""The turns between answers, end to end over REST with the real servers: a form that
never traps the patient, and advice that is kept after a warning sign (issue 12)."""

from __future__ import annotations

import uuid
from typing import List

import pytest

from bot.settings import get_settings
from tests.support.profiles import query
from tests.support.servers import Client

pytestmark = [pytest.mark.e2e, pytest.mark.model]

NOT_A_NUMBER = "does not look like a phone number"
ASKS_NUMBER = "What phone number should the care team call?"


def sender() -> str:
    return "repair-" + uuid.uuid4().hex[:10]


def numbers(servers, conversation: str) -> List[str]:
    rows = query(
        "select callback_number from escalations where sender = ?",
        [f"rest:{conversation}"],
        env=servers.env,
    )
    return [r["callback_number"] for r in rows]


@pytest.fixture
def asked(servers):
    """A web conversation whose urgent warning sign was escalated and that is asked for a number."""
    me = sender()
    client = Client(servers.rasa_port)
    reply = client.text(me, "i have a fever of 102 and chills since this morning")
    assert ASKS_NUMBER in reply
    return me, client


def test_a_question_while_the_form_waits_is_answered_and_the_number_asked_again(servers, asked):
    me, client = asked
    reply = client.text(me, "how long will the soreness last?")
    assert NOT_A_NUMBER not in reply
    assert "sore" in reply.lower() and ASKS_NUMBER in reply
    reply = client.text(me, "555 555 0123")
    assert "+15555550123" in reply
    assert numbers(servers, me) == ["+15555550123"]


def test_a_second_question_ends_the_form_kindly(servers, asked):
    me, client = asked
    client.text(me, "how long will the soreness last?")
    reply = client.text(me, "how should i use the ice packs")
    assert NOT_A_NUMBER not in reply and ASKS_NUMBER not in reply
    assert get_settings().clinic_phone in reply  # call us yourself
    reply = client.text(me, "thanks")
    assert NOT_A_NUMBER not in reply


@pytest.mark.parametrize(
    "text", ["no thanks, no call", "skip it, my son is driving me in", "please don't call me"]
)
def test_declining_the_call_in_words_ends_the_form(servers, asked, text):
    me, client = asked
    reply = client.text(me, text)
    assert NOT_A_NUMBER not in reply and "call" in reply.lower()
    assert numbers(servers, me) == [None]


def test_two_answers_that_are_not_numbers_end_the_form(servers, asked):
    me, client = asked
    assert NOT_A_NUMBER in client.text(me, "hmm")
    reply = client.text(me, "hmm")
    assert NOT_A_NUMBER not in reply and ASKS_NUMBER not in reply


def test_can_it_wait_while_the_form_waits_keeps_the_advice(servers, asked):
    me, client = asked
    reply = client.text(me, "its late, can it wait until tomorrow?")
    assert NOT_A_NUMBER not in reply
    assert "do not wait" in reply.lower() and get_settings().clinic_phone in reply


@pytest.mark.parametrize(
    "text", ["is it ok to drive myself to the er?", "so what should i do", "is this serious?"]
)
def test_after_emergency_advice_the_next_turn_keeps_it(servers, text):
    me = sender()
    client = Client(servers.rasa_port)
    client.text(me, "my dad just fainted and hit his head")
    client.text(me, "skip")
    reply = client.text(me, text)
    assert "Call 911 now" in reply and "do not drive yourself" in reply.lower()


def test_thanks_after_urgent_advice_repeats_it(servers):
    me = sender()
    client = Client(servers.rasa_port)
    client.text(me, "there is pus coming out of my incision")
    client.text(me, "skip")
    reply = client.text(me, "ok thank you")
    assert get_settings().clinic_phone in reply and "if you have not yet" in reply
