from bot.followups import ANSWER_SAYS_HOW_LONG, HOW_LONG, how_long, last_topic, procedure_followup
from tests.support.trackers import user_event


def test_last_topic_is_the_latest_faq_answer():
    events = [
        user_event("faq", "ice?", "ice_pack"),
        user_event("faq", "how sore", "soreness"),
        user_event("followup_how_long", "how long does that last"),
    ]
    assert last_topic(events) == "soreness"


def test_a_topic_slot_set_later_wins():
    events = [
        user_event("faq", "what is vertebroplasty", "what_is_vertebroplasty"),
        user_event("followup_procedure", "and kypho?"),
        {"event": "slot", "name": "topic", "value": "what_is_kyphoplasty"},
    ]
    assert last_topic(events) == "what_is_kyphoplasty"


def test_a_new_session_forgets_the_topic():
    events = [user_event("faq", "ice?", "ice_pack"), {"event": "session_started"}]
    assert last_topic(events) is None


def test_how_long_uses_the_topic_or_asks():
    assert how_long("soreness").responses == ("utter_how_long_soreness",)
    assert how_long("procedure_steps").responses == ("utter_how_long_procedure_duration",)
    assert how_long("billing").responses == ("utter_ask_which_duration",)
    assert how_long(None).responses == ("utter_ask_which_duration",)


def test_how_long_targets_exist_in_the_domain(domain):
    for target in set(HOW_LONG.values()):
        assert f"utter_how_long_{target}" in domain["responses"]


def test_how_long_after_an_aftercare_answer_repeats_it():
    answer = how_long("constipation")
    assert answer.responses == ("utter_faq/constipation",)
    assert answer.topic == "constipation"


def test_aftercare_answers_that_say_how_long_exist_in_the_domain(domain):
    for topic in ANSWER_SAYS_HOW_LONG:
        assert f"utter_faq/{topic}" in domain["responses"]
        assert topic not in HOW_LONG


def test_procedure_followup_switches_what_is():
    answer = procedure_followup("what_is_vertebroplasty", "kyphoplasty")
    assert answer.responses == ("utter_faq/what_is_kyphoplasty",)
    assert answer.topic == "what_is_kyphoplasty"


def test_other_one_means_the_other_procedure():
    assert procedure_followup("what_is_kyphoplasty", None).responses == (
        "utter_faq/what_is_vertebroplasty",
    )


def test_procedure_followup_on_a_shared_topic_says_it_is_the_same():
    answer = procedure_followup("ice_pack", "kyphoplasty")
    assert answer.responses == ("utter_same_for_both", "utter_faq/ice_pack")
    assert answer.topic == "ice_pack"


def test_procedure_followup_on_a_comparing_topic_repeats_it():
    assert procedure_followup("success_rate", "kyphoplasty").responses == (
        "utter_faq/success_rate",
    )


def test_no_topic_and_no_procedure_asks_which():
    assert procedure_followup(None, None).responses == ("utter_ask_which_procedure",)
    assert procedure_followup(None, "kyphoplasty").responses == ("utter_faq/what_is_kyphoplasty",)
