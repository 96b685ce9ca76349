"""The real-wording corpus stays honest, and the bench judges turns as its README says."""

from __future__ import annotations

import csv
import re

import pytest
import yaml

from bench.corpus import (
    CONVERSATIONS,
    MESSAGES,
    SPLITS,
    load_conversations,
    load_messages,
    split_of,
)
from bench.real_wording import Outcome, judge, verdict
from bot.settings import PROJECT_ROOT

FLAGS = {"report", "lookalike", "none"}
TIERS = {"emergency", "urgent"}


def words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def training_texts() -> set:
    texts = set()
    for path in sorted((PROJECT_ROOT / "data").rglob("*.yml")):
        data = yaml.safe_load(path.read_text()) or {}
        for block in data.get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                line = re.sub(r"\[([^\]]*)\]\{[^}]*\}|\[([^\]]*)\]\([^)]*\)", r"\1\2", line)
                texts.add(words(line.lstrip("- ")))
    return texts


def test_the_split_is_by_source_page_and_stable():
    assert split_of("https://example.org/a") == split_of(" https://example.org/a ")
    assert {split_of(f"https://example.org/{i}") for i in range(40)} == set(SPLITS)


def test_every_message_row_is_labelled():
    messages = load_messages()
    assert len(messages) >= 500
    for m in messages:
        assert m.flag in FLAGS, m.id
        assert m.text.strip(), m.id
        assert m.source_url.startswith("http"), m.id
        if m.flag == "report":
            assert m.tier in TIERS, m.id
    flags = [m.flag for m in messages]
    assert flags.count("report") >= 120
    assert flags.count("lookalike") >= 120


def test_the_split_column_says_which_half_each_row_is_in():
    rows = list(csv.DictReader(MESSAGES.open(), delimiter="\t"))
    assert all(r["split"] == split_of(r["page"] or r["source_url"]) for r in rows)
    raw = yaml.safe_load(CONVERSATIONS.read_text())
    assert all(c["split"] == split_of(c.get("page") or c["source_url"]) for c in raw)


def test_both_halves_hold_reports_lookalikes_and_questions():
    for split in SPLITS:
        flags = {m.flag for m in load_messages(split)}
        assert flags == FLAGS, split
        assert load_conversations(split), split


def test_conversations_are_labelled():
    conversations = load_conversations()
    assert len(conversations) >= 60
    for c in conversations:
        assert c.turns and all(t.user.strip() and t.expect for t in c.turns), c.id


def test_the_fresh_set_is_its_own_pages_and_labelled_like_the_halves():
    fresh = load_messages("fresh")
    assert len(fresh) >= 180
    assert {m.flag for m in fresh} == {"none", "report", "lookalike"}
    assert all(m.tier in ("emergency", "urgent") for m in fresh if m.flag == "report")
    used = {m.page for m in load_messages("all")} | {c.page for c in load_conversations("all")}
    assert not {m.source_url for m in fresh} & used


def test_no_locked_row_feeds_training():
    """The locked half and the fresh set measure; a sentence of them in data/ would make it
    memory. (Greetings
    and two-word thanks are the same everywhere: only messages of four words or more count.)"""
    trained = training_texts()
    locked = [m.text for m in load_messages("locked") + load_messages("fresh")]
    locked += [t.user for c in load_conversations("locked") for t in c.turns]
    leaked = [t for t in locked if len(words(t).split()) >= 4 and words(t) in trained]
    assert not leaked, leaked[:5]


@pytest.mark.parametrize(
    ("expect", "outcome", "right"),
    [
        ("faq/ice_pack", Outcome(["utter_faq/ice_pack"], []), True),
        ("faq/ice_pack", Outcome(["utter_faq/shower"], []), False),
        ("faq/ice_pack", Outcome(["utter_faq/ice_pack"], ["urgent"]), False),
        ("new/blood_thinners", Outcome(["utter_faq/blood_thinners"], []), True),
        ("new/blood_thinners", Outcome(["utter_out_of_scope/other"], []), False),
        ("red_flag:urgent", Outcome(["utter_red_flag_emergency"], ["emergency"]), True),
        ("red_flag:emergency", Outcome(["utter_red_flag_urgent"], ["urgent"]), False),
        ("red_flag:urgent", Outcome(["utter_red_flag_urgent"], []), False),
        ("after_advice:urgent", Outcome(["utter_red_flag_urgent"], []), True),
        ("after_advice:urgent", Outcome(["utter_faq/preparation"], []), False),
        ("ask_having_now", Outcome(["utter_faq/warning_signs", "utter_ask_having_now"], []), True),
        ("followup:faq/soreness", Outcome(["utter_how_long_soreness"], []), True),
        ("thank", Outcome(["utter_thank"], []), True),
        ("thank", Outcome(["utter_thank"], ["urgent"]), False),
        ("opt_out", Outcome(["utter_default"], [], opted_out=True), True),
        ("opt_out", Outcome(["utter_callback_requested"], []), False),
    ],
)
def test_judge(expect, outcome, right):
    assert judge(expect, outcome) is right


def test_a_lookalike_asked_about_is_not_a_false_alarm():
    from bench.corpus import Message

    look = Message(
        "x",
        "https://e.org",
        "https://e.org",
        "is numbness normal?",
        "faq/risks",
        "lookalike",
        "",
        "",
    )
    assert verdict(look, Outcome(["utter_faq/risks", "utter_ask_having_now"], [])) == "asked"
    assert verdict(look, Outcome(["utter_red_flag_urgent"], ["urgent"])) == "alarm"


def test_rounds_three_and_four_do_not_feed_training():
    """Rows 801 and up were tried as training data and dropped (README, "Real wording",
    2026-12-04): `scripts/train_half_examples.py` holds them out, and data/ has none of them."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "train_half_examples", PROJECT_ROOT / "scripts" / "train_half_examples.py"
    )
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    late = [m for m in load_messages("train") if script.held_out(m.id)]
    assert late and not script.held_out("q720") and not script.held_out("r751")
    trained = training_texts()
    fed = [m.id for m in late if len(words(m.text).split()) >= 4 and words(m.text) in trained]
    assert not fed, fed[:5]
