"""Replies to check-ins: answers, worrying answers, warning signs, questions, free text."""

from __future__ import annotations

import pytest

from bot.checkins.inbound import RED_FLAG, Replies
from bot.checkins.schedule import fill
from bot.checkins.sender import run_due
from bot.settings import get_settings
from bot.tiers import CALLBACK, RED_FLAG_TIERS
from tests.bot.checkins.conftest import ZONE, Recorder
from tests.support.clock import at
from tests.support.sms import PATIENT

_sids = iter(range(10**6))


@pytest.fixture
def replies(store, schedule, clock):
    return Replies(store, get_settings(), schedule, clock)


def send_up_to(store, clock, when):
    clock.set(at(when, ZONE))
    run_due(store, get_settings(), clock, send=Recorder())


def reply(replies, text):
    return replies.handle(PATIENT, text, f"SM{next(_sids)}")


@pytest.fixture
def evening(store, clock, enrolled):
    """The evening check-in has gone out."""
    send_up_to(store, clock, "2026-06-01 18:00")
    return enrolled


def test_no_check_in_open_means_the_conversation_answers(replies, enrolled):
    assert reply(replies, "7") is None


def test_a_number_that_is_not_enrolled_is_left_to_the_conversation(replies, evening):
    assert replies.handle("+15555559999", "7", "SMx") is None


def test_a_low_score_is_logged_and_answered_with_the_advice_for_the_day(
    replies, evening, checkins, schedule, store
):
    outcome = reply(replies, "3")
    assert outcome.texts == [fill(schedule.entry("evening").reply)]
    [row, *_] = checkins.checkins(evening)
    assert (row["status"], row["answer_kind"], row["answer_value"], row["alert"]) == (
        "answered",
        "pain",
        "3",
        0,
    )
    assert not store.list()
    [kept] = checkins.replies(evening)
    assert kept["text"] == "3" and kept["kind"] == "pain"


@pytest.mark.parametrize("text", ["7", "seven", "about an 8", "10"])
def test_pain_of_seven_or_more_puts_the_patient_on_the_call_list(
    replies, evening, store, schedule, text
):
    outcome = reply(replies, text)
    assert outcome.texts == [fill(schedule.alert_reply)]
    [escalation] = store.list()
    assert escalation["tier"] == CALLBACK and escalation["callback_number"] == PATIENT
    assert "pain" in escalation["message"] and "/10" in escalation["message"]


def test_a_rise_of_two_since_the_last_score_puts_the_patient_on_the_call_list(
    replies, evening, store, clock
):
    assert reply(replies, "3").kind == "pain"
    send_up_to(store, clock, "2026-06-03 10:30")
    reply(replies, "5")
    [escalation] = store.list()
    assert "pain up from 3 to 5" in escalation["symptoms"][0]
    assert "evening: pain 3/10" in escalation["message"]


def test_a_rise_of_one_does_not(replies, evening, store, clock):
    reply(replies, "3")
    send_up_to(store, clock, "2026-06-03 10:30")
    reply(replies, "4")
    assert not store.list()


@pytest.fixture
def day7(store, clock, evening, replies):
    reply(replies, "2")
    send_up_to(store, clock, "2026-06-03 10:30")
    reply(replies, "2")
    send_up_to(store, clock, "2026-06-08 10:00")


@pytest.mark.parametrize(
    "text, call", [("2", False), ("better", False), ("worse", True), ("4", True)]
)
def test_choices_and_words_for_a_choice_question(replies, day7, store, checkins, text, call):
    reply(replies, text)
    assert bool(store.list()) == call
    [row] = [r for r in checkins.checkins(1) if r["key"] == "day7"]
    assert row["status"] == "answered" and row["alert"] == int(call)


def test_a_warning_sign_escalates_as_the_chat_does_and_the_conversation_answers(
    replies, evening, store, checkins
):
    outcome = reply(replies, "I can't feel my legs since this afternoon")
    assert outcome.texts is None and outcome.kind == RED_FLAG  # the assistant gives the advice
    [escalation] = store.list()
    assert escalation["tier"] in RED_FLAG_TIERS and escalation["source"] == "checkins"
    assert escalation["callback_number"] == PATIENT
    [row, *_] = checkins.checkins(evening)
    assert row["answer_kind"] == RED_FLAG and row["escalation_id"] == escalation["id"]


def test_a_warning_sign_in_answer_to_the_last_check_in_completes_the_programme(
    replies, store, clock, enrolled, checkins
):
    for when, text in (("2026-06-01 18:00", "3"), ("2026-06-03 10:30", "3"),
                       ("2026-06-08 10:00", "2"), ("2026-06-15 10:00", "3"),
                       ("2026-07-13 10:00", "my legs are numb and weak")):  # fmt: skip
        send_up_to(store, clock, when)
        reply(replies, text)
    assert [r["status"] for r in checkins.checkins(enrolled)] == ["answered"] * 5
    assert checkins.enrolment(enrolled)["status"] == "completed"


def test_a_score_written_out_of_ten_is_severe_pain_to_the_red_flag_detector_as_in_chat(
    replies, evening, store
):
    # the lexicon reads "8/10" as a report of severe pain (urgent tier), in a check-in too
    assert reply(replies, "8/10").kind == RED_FLAG
    [escalation] = store.list()
    assert escalation["tier"] == "urgent" and escalation["symptoms"] == ["severe_pain"]


def test_a_question_is_left_to_the_assistant_and_the_check_in_stays_open(
    replies, evening, checkins
):
    outcome = reply(replies, "can I shower yet?")
    assert outcome.texts is None
    assert outcome.after and "0 (none) to 10 (worst)" in outcome.after[0]
    assert checkins.checkins(evening)[0]["status"] == "sent"
    assert reply(replies, "4").kind == "pain"


def test_unreadable_text_is_asked_again_then_kept_for_a_person(
    replies, evening, store, checkins, schedule
):
    first = reply(replies, "meh")
    assert first.texts == [fill(schedule.answers["pain"]["unclear"])]
    assert not store.list()
    second = reply(replies, "hard to say really")
    assert second.texts == [fill(schedule.alert_reply)]
    [escalation] = store.list()
    assert "not understood" in escalation["symptoms"][0]
    assert [r["text"] for r in checkins.replies(evening)] == ["meh", "hard to say really"]


def test_the_same_message_twice_is_read_once(replies, evening, checkins):
    assert replies.handle(PATIENT, "3", "SMsame").kind == "pain"
    assert len(checkins.replies(evening)) == 1


def test_a_stopped_programme_reads_no_replies(replies, evening, checkins, clock):
    checkins.stop(evening, "RN", "moved away", clock())
    assert reply(replies, "7") is None


def test_a_low_score_with_worse_in_it_still_needs_a_call(replies, evening, store):
    reply(replies, "3 but worse than this morning")
    [escalation] = store.list()
    assert escalation["symptoms"] == ["check-in evening: worse or a new problem"]
