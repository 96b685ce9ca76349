"""The graph component on real Rasa messages: the uncertain path reaches the dialogue
as the warning-signs answer plus `asked_tier`, which the rules in data/rules/symptoms.yml
turn into "Are you having this now?"; a yes then escalates at that tier."""

from __future__ import annotations

from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.red_flag_component import WARNING_SIGNS, RedFlagDetector, with_whole_message
from bot.text import RED_FLAG_SCAN

UNCERTAIN_TEXT = "my mother has had leg weakness for years, is she a candidate now?"


def message(text: str, intent: str, confidence: float = 0.9) -> Message:
    m = Message(data={TEXT: text})
    m.set(INTENT, {"name": intent, "confidence": confidence})
    m.set("intent_ranking", [{"name": intent, "confidence": confidence}])
    m.set(
        "response_selector",
        {"faq": {"response": {"intent_response_key": "faq/candidacy"}, "ranking": []}},
    )
    return m


def entities(m: Message) -> dict:
    return {e["entity"]: e["value"] for e in m.get(ENTITIES) or []}


def test_uncertain_report_gets_the_warning_signs_answer_and_the_question():
    (m,) = RedFlagDetector(RedFlagDetector.get_default_config()).process(
        [message(UNCERTAIN_TEXT, "faq")]
    )
    assert m.get(INTENT)["name"] == "faq"
    key = m.get("response_selector")["faq"]["response"]["intent_response_key"]
    assert key == WARNING_SIGNS  # not the candidacy FAQ the classifier chose
    assert entities(m)["asked_tier"] == "urgent"
    assert "red_flag_tier" not in entities(m)


def test_uncertain_report_that_the_classifier_calls_a_report_is_asked_too():
    m = message(UNCERTAIN_TEXT, "report_symptom")
    m.set("intent_ranking", [{"name": "report_symptom", "confidence": 0.9},
                             {"name": "faq", "confidence": 0.1}])  # fmt: skip
    (m,) = RedFlagDetector(RedFlagDetector.get_default_config()).process([m])
    assert m.get(INTENT)["name"] == "faq"
    assert entities(m)["asked_tier"] == "urgent" and "red_flag_tier" not in entities(m)


def test_a_plain_question_keeps_the_faq_the_classifier_chose():
    (m,) = RedFlagDetector(RedFlagDetector.get_default_config()).process(
        [message("is numbness normal after kyphoplasty?", "faq")]
    )
    key = m.get("response_selector")["faq"]["response"]["intent_response_key"]
    assert key == "faq/candidacy" and entities(m)["asked_tier"] == "urgent"


def test_a_warning_sign_the_channel_found_in_the_whole_long_message_escalates():
    m = message("I have a few questions about the recovery", "faq")
    m.set("metadata", {RED_FLAG_SCAN: {"tier": "urgent", "symptoms": ["numbness"]}})
    (m,) = RedFlagDetector(RedFlagDetector.get_default_config()).process([m])
    assert m.get(INTENT)["name"] == "report_symptom"
    assert entities(m)["red_flag_tier"] == "urgent" and entities(m)["symptom"] == "numbness"


def test_the_whole_message_scan_raises_the_tier_and_adds_its_symptoms():
    result = with_whole_message(
        {"tier": "urgent", "symptoms": ["numbness"], "sources": ["lexicon"]},
        {"tier": "emergency", "symptoms": ["chest_pain"]},
    )
    assert result["tier"] == "emergency" and result["symptoms"] == ["chest_pain", "numbness"]
    for scan in (None, {}, {"tier": "callback"}, {"tier": "made-up"}, "emergency"):
        assert with_whole_message({"overruled": False}, scan) == {"overruled": False}
