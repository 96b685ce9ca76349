"""The context engine's ConText readings, the uncertain path, and linear work."""

from __future__ import annotations

import pytest

from bot.nlu.red_flag_component import decide
from bot.nlu.red_flags import UNCERTAIN, detector


def statuses(text: str) -> set:
    return {f.status for f in detector().detect(text).findings}


@pytest.mark.parametrize(
    "text",
    [
        "numbness in my foot that wasn't there before",
        "my legs are weaker than before",
        "i never had this tingling before",
        "not only is my back sore, my legs are numb",
        "no change in the numbness since the kyphoplasty",
        "i was told to call if my legs went numb, and now they are numb",
    ],
)
def test_pseudo_triggers_and_comparisons_read_as_new(text):
    assert detector().detect(text).tier, statuses(text)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("felt faint on the drive home from the sedation, fine since", "historical"),
        ("my legs were numb for a few hours after the shot, back to normal now", "historical"),
        ("my frail mother has leg weakness, can she have it?", "background"),
        ("nurse said to call if the pain gets worse and the medicine doesn't help", "hypothetical"),
        ("my legs might be weak for a few hours after the epidural", "hypothetical"),
        ("no change in the numbness i have had for years", "chronic"),
    ],
)
def test_over_candidacy_and_hypothetical_are_not_reports(text, status):
    assert status in statuses(text) and not detector().detect(text).tier


def test_a_pseudo_trigger_cancels_the_negation_inside_it():
    assert "negated" in statuses("no numbness")
    assert "negated" not in statuses("no change in the numbness")


def test_wine_with_pain_pills_is_not_a_report():
    assert not detector().detect("can i have a glass of wine with my pain pills?").tier


def test_a_sign_of_change_beside_a_past_reading_is_uncertain():
    found = detector().detect("my mother has had leg weakness for years, is she a candidate now?")
    assert found.uncertain and not found.tier
    assert found.asked_tier == "urgent"


def test_the_uncertain_path_asks_even_when_the_classifier_says_report():
    found = detector().detect("my mother has had leg weakness for years, is she a candidate now?")
    for intent in ("faq", "report_symptom"):
        asked = decide(found, intent, 0.9, 0.5)
        assert asked["asked_tier"] == "urgent" and asked["uncertain"] and "tier" not in asked


def test_classifier_alone_is_still_gated_by_cues_inside_pseudo_triggers():
    found = detector().detect("the water in the toilet won't stop running")
    assert "negation" in found.cues
    assert "tier" not in decide(found, "report_symptom", 0.9, 0.5)


def test_a_clear_non_report_is_not_sent_down_the_uncertain_path():
    result = decide(detector().detect("no numbness, just sore"), "faq", 0.9, 0.5)
    assert "asked_tier" not in result
    assert UNCERTAIN not in statuses("no numbness, just sore")


@pytest.mark.parametrize("word", ["numb ", "fever ", "no numb ", "my legs are numb since today, "])
def test_context_work_grows_linearly_with_mentions(word):
    """Not a timing test: the engine counts its steps. Eight times the mentions may
    cost at most about eight times the work; the old engine took ~64 times."""
    small = detector().detect(word * 50).operations
    large = detector().detect(word * 400).operations
    assert large <= 8 * small * 1.2, (small, large)


def test_a_warning_sign_at_the_end_of_a_long_message_is_found():
    story = "we went to the store and then we had lunch with my sister. " * 1700
    assert len(story) > 100_000
    assert detector().detect(story + " now my legs are numb").tier == "urgent"


def test_a_question_followed_by_when_it_started_is_a_report():
    found = detector().detect("what causes chest tightness like this? it started an hour ago")
    assert found.tier == "emergency"
    assert not detector().detect("what causes chest tightness after kyphoplasty?").tier


def test_quotes_around_a_word_do_not_break_a_pattern():
    assert detector().detect('mom started seeing ""bugs"" on the walls').tier == "urgent"


@pytest.mark.parametrize(
    "text",
    [
        "i have pins and needles in my foot i never had before my surgery",
        "my legs feel weaker compared to before the procedure",
        "i had numbness before the procedure but now it's much worse",
        "my feet were numb for years from diabetes, but they are worse now",
        "the tingling went away but it came back tonight",
        "my leg is still numb from the block and it's not wearing off",
        "mom has dementia but she is much more confused than usual tonight",
        "my leggs feel weaker then before the procedure",
        "i continue to have tingling since the kyphoplasty",
        "i've had a sore back for ages but this feels different, it's a 9/10",
        "i had sciatica before, but this shooting pain down my leg is brand new",
        "my right foot tingles more than it did before the kyphoplasty",
    ],
)
def test_worse_back_or_new_after_a_past_reading_is_a_report(text):
    assert detector().detect(text).tier, statuses(text)


@pytest.mark.parametrize(
    "text",
    [
        "i had numbness before the procedure, but it isn't worse",
        "i had numbness before the procedure and the nurse said it might get worse",
        "i had chills the first night but they stopped",
        "the tingling lasted a few minutes and then stopped",
        "my leg is a little numb but it's wearing off",
        "felt short of breath on the stairs before my fracture, nothing like that now",
        "my mom is bedbound with severe back pain, is kyphoplasty an option?",
        "my legs felt weak from the local for about an hour, now i'm walking normally",
        "my mother had a stroke years ago and has been confused since, is she a candidate?",
        "my dad can barely walk from the fracture, would kyphoplasty help him walk again?",
        "there continues to be some numbness in my big toe",
        "my feet have been numb for years from diabetes, nothing is different",
    ],
)
def test_not_worse_resolved_and_before_the_procedure_are_not_reports(text):
    found = detector().detect(text)
    assert not found.tier and not found.uncertain, statuses(text)


def test_a_resolved_word_that_means_prevented_is_not_resolved():
    assert detector().detect("my legs are numb and it stopped me from walking").tier


def test_not_walking_normally_is_not_walking_normally():
    assert detector().detect("my legs are weak and i'm not walking normally").tier


def test_a_question_about_what_the_patient_can_barely_do_is_theirs():
    assert detector().detect("is it normal that i can barely walk?").tier
