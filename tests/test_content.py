"""The answers themselves: sourced, plain, short, and in the project's own words."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import textstat
from rasa.shared.nlu.training_data.loading import load_data

from bot.channels.sms_format import GSM7_BASIC, render
from bot.settings import PROJECT_ROOT, get_settings

SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"
COPYCHECK = PROJECT_ROOT.parent / "shared" / "tools" / "copycheck"
SOURCE_IDS = {"000", "001", "002", "003", "004"}
# an answer to a question the documents don't cover names who decides instead of a document
CARE_TEAM = "care team"
MEDICAL_PREFIXES = ("utter_faq/", "utter_how_long_", "utter_mild_symptom", "utter_red_flag")
PLACEHOLDER = re.compile(r"{([a-z_]+)}")
# the basic GSM-7 alphabet: a character outside it makes the text UCS-2
GSM7 = GSM7_BASIC
MAX_GRADE = 8.0
MAX_SMS = 320
MAX_WEB = 700


def variations(domain: Dict[str, Any]) -> Iterator[Tuple[str, Dict[str, Any]]]:
    for name, variants in domain["responses"].items():
        for variant in variants:
            yield name, variant


SLOT_EXAMPLES = {"callback_number": "+15555550123"}


def filled(text: str) -> str:
    return text.format(**get_settings().response_values(), **SLOT_EXAMPLES)


def for_reading(text: str) -> str:
    """Text as a reader meets it: list items count as sentences."""
    lines = [line.strip().lstrip("-*").strip() for line in filled(text).splitlines()]
    return " ".join(
        line if line.endswith((".", "?", "!", ":")) else line + "." for line in lines if line
    )


def test_every_response_names_its_sources(domain):
    for name, variant in variations(domain):
        sources = (variant.get("metadata") or {}).get("sources")
        assert isinstance(sources, list), f"{name}: metadata.sources missing"
        assert set(sources) <= SOURCE_IDS | {CARE_TEAM}, f"{name}: unknown source {sources}"
        if name.startswith(MEDICAL_PREFIXES):
            assert sources, f"{name}: states medical facts but names no source document"


def test_source_ids_are_real_documents():
    if not SEEDS.exists():
        pytest.skip("../shared/seeds is not beside the project")
    present = {p.name[:3] for p in SEEDS.glob("*.txt")}
    assert present >= SOURCE_IDS


def test_every_response_has_an_sms_variant(domain):
    for name, variants in domain["responses"].items():
        assert any(v.get("channel") == "sms" for v in variants), f"{name}: no sms variant"
        assert any("channel" not in v for v in variants), f"{name}: no default variant"


def test_sms_variants_are_short_plain_gsm7(domain):
    too_long: List[str] = []
    for name, variant in variations(domain):
        if variant.get("channel") != "sms":
            continue
        # As the SMS channel sends it: buttons become "Reply 1 for ..., 2 for ...".
        message = {"text": filled(variant["text"]), "buttons": variant.get("buttons") or []}
        text = "\n".join(render([message]).parts)
        for button in message["buttons"]:
            assert not button["payload"].startswith("/"), f"{name}: an intent payload"
        bad = sorted({c for c in text if c not in GSM7})
        assert not bad, f"{name}: characters outside GSM-7 {bad}"
        if len(text) > MAX_SMS:
            too_long.append(f"{name} ({len(text)})")
    assert not too_long, f"sms answers over {MAX_SMS} characters: {too_long}"


def test_web_variants_fit_a_phone_screen(domain):
    for name, variant in variations(domain):
        if "channel" not in variant:
            assert len(filled(variant["text"])) <= MAX_WEB, name


def test_reading_level_is_grade_8_or_lower(domain):
    hard = []
    for name, variant in variations(domain):
        grade = textstat.flesch_kincaid_grade(for_reading(variant["text"]))
        if grade > MAX_GRADE:
            hard.append(f"{name} [{variant.get('channel', 'web')}] grade {grade:.1f}")
    assert not hard, "\n".join(hard)


def test_placeholders_are_settings_or_slots(domain):
    known = set(get_settings().response_values()) | set(domain["slots"])
    for name, variant in variations(domain):
        used = set(PLACEHOLDER.findall(str(variant)))
        assert used <= known, f"{name}: unknown placeholders {used - known}"


def test_button_payloads_are_plain_questions(domain):
    for name, variant in variations(domain):
        for button in variant.get("buttons") or []:
            assert not button["payload"].lstrip().startswith("/"), name
            assert button["title"].strip(), name


def test_every_retrieval_intent_has_an_answer_and_back(domain):
    trained = {
        m.get_full_intent() for m in load_data(str(PROJECT_ROOT / "data" / "nlu")).intent_examples
    }
    keys = {i for i in trained if "/" in i}
    answers = {n[len("utter_") :] for n in domain["responses"] if "/" in n}
    assert keys == answers


def test_copycheck_finds_no_copied_passage():
    if not COPYCHECK.exists():
        pytest.skip("../shared/tools/copycheck is not beside the project")
    if shutil.which("git") is None:
        pytest.skip("git is needed to list the project's files")
    out = subprocess.run([str(COPYCHECK), str(PROJECT_ROOT)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout
    assert "copycheck: 0 passage(s)" in out.stdout


# -- the channels' own replies (bot/replies.yml) ----------------------------------


def channel_replies() -> Iterator[Tuple[str, Dict[str, Any]]]:
    from bot.replies import catalogue

    yield from catalogue().items()


def test_every_channel_reply_names_its_sources_and_channels():
    for name, reply in channel_replies():
        assert isinstance(reply.get("sources"), list), f"{name}: sources missing"
        assert set(reply["sources"]) <= SOURCE_IDS, f"{name}: unknown source {reply['sources']}"
        assert set(reply.get("channels") or []) <= {"rest", "web", "sms"}, name
        assert reply.get("channels"), f"{name}: no channel"


def test_channel_replies_are_plain_and_short():
    from bot.replies import say

    examples = {"choices": "1 for Ice packs, 2 for Pain medicine", "number": 1, "title": "Ice"}
    hard = []
    for name, reply in channel_replies():
        text = say(name, **examples)
        if "sms" in reply["channels"]:
            bad = sorted({c for c in text if c not in GSM7})
            assert not bad, f"{name}: characters outside GSM-7 {bad}"
            assert len(text) <= MAX_SMS, f"{name} ({len(text)})"
        assert len(text) <= MAX_WEB, name
        if len(text.split()) > 4:  # a sentence, not a button label
            grade = textstat.flesch_kincaid_grade(for_reading(text))
            if grade > MAX_GRADE:
                hard.append(f"{name} grade {grade:.1f}")
    assert not hard, "\n".join(hard)


def test_channel_replies_use_only_settings_placeholders():
    known = set(get_settings().response_values()) | {"choices", "number", "title"}
    for name, reply in channel_replies():
        used = set(PLACEHOLDER.findall(reply["text"]))
        assert used <= known, f"{name}: unknown placeholders {used - known}"
