"""Opt-out in the patient's own words on SMS: "quit texting me", "take me off this list".

Carriers only require the single keywords (STOP and its kin, in sms_format); a patient
who asks in a sentence is owed the same. A sure match is honoured as STOP is; an unsure
one gets one question ("Reply STOP to end texts") instead of an unrelated answer. The
phrases live in sms_opt_out.yml. A message that names a warning sign is never an
opt-out: the conversation must answer it, so the detector has the last word.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import yaml

from bot.nlu.red_flags import detector, fever_threshold_f
from bot.settings import get_settings

PHRASES = Path(__file__).with_name("sms_opt_out.yml")
SURE = "sure"
UNSURE = "unsure"


@dataclass(frozen=True)
class Phrases:
    max_words: int
    sure: List[re.Pattern]
    question: List[re.Pattern]
    unsure: List[re.Pattern]
    resume: List[re.Pattern]


@functools.lru_cache(maxsize=1)
def phrases() -> Phrases:
    data = yaml.safe_load(PHRASES.read_text())
    return Phrases(
        max_words=int(data["max_words"]),
        **{k: [re.compile(p) for p in data[k]] for k in ("sure", "question", "unsure", "resume")},
    )


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _match(plain: str) -> Optional[str]:
    table = phrases()
    if any(p.search(plain) for p in table.sure):
        return UNSURE if any(p.search(plain) for p in table.question) else SURE
    if any(p.search(plain) for p in table.unsure):
        return None if any(p.search(plain) for p in table.resume) else UNSURE
    return None


def opt_out_in_words(text: object) -> Optional[str]:
    """SURE, UNSURE or None for one message (the single keywords are handled before)."""
    if not isinstance(text, str):
        return None
    plain = _plain(text)
    if not plain or len(plain.split()) > phrases().max_words:
        return None
    found = _match(plain)
    if found is None:
        return None
    if detector(fever_threshold_f(get_settings().fever_threshold)).detect(text).findings:
        return None  # a symptom is named: the conversation answers, not the opt-out
    return found
