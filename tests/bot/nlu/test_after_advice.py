"""The after-advice questions: the whole message, and nothing that names a topic."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.after_advice import AfterAdviceQuestion, is_after_advice_question


@pytest.mark.parametrize(
    "text",
    [
        "what should i do",  # the classifier said faq/preparation at 0.80
        "So what should I do now?",
        "ok what now",
        "can it wait till the morning?",
        "can I wait for the nurse to call",
        "is it serious?",
        "how bad is this",
        "should i go to the ER?",
        "should i drive myself there",
        "can my husband drive me",
        "do we really have to go in tonight",
        "my wife is driving me now",  # the example: the advice is kept
        "ok my daughter is coming to get me",
        "she's taking me to the ER",
        "we're on our way",
        "what do i tell them when i get there",
    ],
)
def test_a_short_question_about_what_to_do_now_is_one(text: str) -> None:
    assert is_after_advice_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "what should i do before the procedure",
        "can i drive after kyphoplasty",
        "is it serious if my leg is numb",
        "my legs are numb what do i do",
        "should i call about a fever",
        "and driving?",
        "my husband will drive me to my appointment tomorrow",
        "my daughter is coming to visit",
        "im going to the er because my legs are numb",
        "",
    ],
)
def test_a_question_with_a_topic_or_a_symptom_is_not(text: str) -> None:
    assert not is_after_advice_question(text)


def test_the_component_sets_the_intent_and_keeps_the_rest_ranked() -> None:
    message = Message({TEXT: "what should i do"})
    message.set(INTENT, {"name": "faq", "confidence": 0.8})
    message.set(INTENT_RANKING_KEY, [{"name": "faq", "confidence": 0.8}])
    AfterAdviceQuestion().process([message])
    assert message.get(INTENT)["name"] == "ask_after_advice"
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["ask_after_advice", "faq"]
