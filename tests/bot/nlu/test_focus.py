"""bot/nlu/focus.py: a long story is read on its question, never past a warning sign."""

from __future__ import annotations

from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.focus import FULL_TEXT, QuestionFocus, QuestionFocusRestore, asks, focus

STORY = (
    "My father has a compression fracture in the middle of his back. His doctor has "
    "suggested doing a kyphoplasty but Dad is putting it off. If he waits too long, "
    "will it be too late?"
)


def test_a_story_is_read_on_its_question_with_the_procedure_it_means() -> None:
    assert focus(STORY) == (
        "His doctor has suggested doing a kyphoplasty but Dad is putting it off. "
        "If he waits too long, will it be too late?"
    )


def test_two_questions_that_run_together_are_kept_together() -> None:
    text = (
        "My mother had her vertebroplasty on Monday at your clinic and she has been resting "
        "at home with us since then. She wants to go to church on Sunday. Is that too soon? "
        "Can she sit in a car for an hour?"
    )
    assert focus(text) == (
        "My mother had her vertebroplasty on Monday at your clinic and she has been resting "
        "at home with us since then. Is that too soon? Can she sit in a car for an hour?"
    )


def test_short_messages_and_single_sentences_are_read_whole() -> None:
    assert focus("when can i shower after kyphoplasty?") is None
    one_sentence = (
        "mom had her kyphoplasty on monday and shes doing ok but still pretty sore in the "
        "lower back is that normal and can she take ibuprofen with her other meds"
    )
    assert focus(one_sentence) is None


def test_a_story_that_names_a_warning_sign_is_read_whole() -> None:
    text = (
        "My mom had the kyphoplasty yesterday and came home in the afternoon. Since this "
        "morning her legs are numb and she cannot stand up on her own. What should I do?"
    )
    assert focus(text) is None


def test_a_story_without_a_question_is_read_whole() -> None:
    text = (
        "My father had a kyphoplasty last week. He is walking better every day and the "
        "soreness is almost gone. We wanted to say thank you to the whole team for it."
    )
    assert focus(text) is None


def test_questions_are_told_by_their_mark_or_their_first_word() -> None:
    assert asks("will it hurt")
    assert asks("It is fine?")
    assert not asks("She is sore.")


def test_the_classifiers_read_the_question_and_the_rest_the_whole_message() -> None:
    message = Message(data={TEXT: STORY})
    QuestionFocus().process([message])
    assert message.get(TEXT).startswith("His doctor")
    assert message.get(FULL_TEXT) == STORY
    QuestionFocusRestore().process([message])
    assert message.get(TEXT) == STORY
    assert message.get(FULL_TEXT) is None


CHURCH = (
    "My mother had her vertebroplasty on Monday at your clinic and she has been resting "
    "at home with us since then. She wants to go to church on Sunday. Is that too soon? "
    "Can she sit in a car for an hour?"
)


def test_entities_found_in_the_question_point_into_the_whole_message() -> None:
    message = Message(data={TEXT: CHURCH})
    QuestionFocus().process([message])
    cut = message.get(TEXT)
    assert "church" not in cut
    car, joint = cut.index("car"), cut.index("then. Is")  # the joint skips a sentence
    message.set(
        ENTITIES,
        [
            {"entity": "vehicle", "value": "car", "start": car, "end": car + 3},
            {"entity": "noise", "value": "then. Is", "start": joint, "end": joint + 8},
            {"entity": "procedure", "value": "vertebroplasty"},  # no offsets: kept
        ],
    )
    QuestionFocusRestore().process([message])
    moved, unplaced = message.get(ENTITIES)
    assert (moved["start"], moved["end"]) == (CHURCH.index("car"), CHURCH.index("car") + 3)
    assert "start" not in unplaced
    assert message.get(TEXT) == CHURCH
