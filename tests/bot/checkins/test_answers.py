"""Reading replies as patients write them."""

from __future__ import annotations

import pytest

from bot.checkins.answers import CHOICE, FREE_TEXT, PAIN, QUESTION, read


@pytest.mark.parametrize(
    "text, score",
    [
        ("7", 7), ("7/10", 7), ("7 / 10", 7), ("7 out of 10", 7), ("seven", 7), ("Seven.", 7),
        ("about a 6", 6), ("its a 6 today", 6), ("6-7", 7), ("10/10", 10), ("0", 0),
        ("zero", 0), ("maybe 3?", 3),
    ],
)  # fmt: skip
def test_pain_scores(schedule, text, score):
    reading = read(text, PAIN, schedule.options)
    assert (reading.kind, reading.score) == (PAIN, score)


@pytest.mark.parametrize(
    "text, means, alert",
    [
        ("1", "better", False), ("2", "same", False), ("#3", "worse", True),
        ("4.", "a new problem", True), ("better", "better", False),
        ("much worse", "worse", True), ("Much better thanks", "better", False),
        ("not worse", "same", False), ("about the same", "same", False),
        ("I have a new problem", "a new problem", True),
        ("better but something new", "a new problem", True),
    ],
)  # fmt: skip
def test_choices_by_number_and_by_words(schedule, text, means, alert):
    reading = read(text, CHOICE, schedule.options)
    assert (reading.kind, reading.value, reading.alert) == (CHOICE, means, alert)


def test_words_answer_a_pain_question_too(schedule):
    reading = read("worse than yesterday", PAIN, schedule.options)
    assert (reading.kind, reading.value, reading.alert) == (CHOICE, "worse", True)
    assert read("5 and worse", PAIN, schedule.options).alert


def test_a_number_for_a_pain_question_is_a_score_not_a_choice(schedule):
    assert read("2", PAIN, schedule.options).score == 2


@pytest.mark.parametrize("text", ["can I shower yet?", "When can I drive", "is ice ok to use?"])
def test_questions(schedule, text):
    assert read(text, PAIN, schedule.options).kind == QUESTION


@pytest.mark.parametrize("text", ["15", "hmm", "call me", "the dog ate my homework"])
def test_anything_else_is_free_text(schedule, text):
    assert read(text, PAIN, schedule.options).kind == FREE_TEXT
    assert read(text, CHOICE, schedule.options).kind == FREE_TEXT
