"""Text normaliser for the red-flag detector: lower case, straight quotes, contractions
expanded, SMS shorthand and lay misspellings fixed, then split into words.

Every step is one regular-expression pass or one dictionary look-up per word, so the
cost is linear in the length of the message.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Dict, List, Set

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "`": "'"})
_CONTRACTIONS = [
    (re.compile(r"\bcan'?t\b|\bcan not\b|\bcannot\b|\bcnt\b"), "cannot"),
    # "couldn't walk" is read as "cannot walk": a past tense is told by its own cues
    (re.compile(r"\bcould ?n'?t\b|\bcould not\b"), "cannot"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\b(\w+)n't\b"), r"\1 not"),
    # "not able to walk" is "unable to walk", not a negated "able to walk"
    (re.compile(r"\bnot able to\b"), "unable to"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"\b(i|you|we|they)'ve\b"), r"\1 have"),
    (re.compile(r"\b(i|you|we|they|he|she)'ll\b"), r"\1 will"),
    (re.compile(r"\b(it|that|there|what|he|she)'s\b"), r"\1 is"),
    (re.compile(r"\b(you|we|they)'re\b"), r"\1 are"),
    (re.compile(r"'s\b"), ""),
    (re.compile(r"(\d)\s*°?\s*(f|c)\b"), r"\1 \2"),
    (re.compile(r"(\d)(am|pm)\b"), r"\1 \2"),
]
_WORDS = re.compile(r"\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)?|[^\sa-z\d]")


def normalise(text: str, spellings: Dict[str, str], shorthand: Dict[str, str]) -> str:
    """Lower-case text with contractions expanded and lay spellings fixed."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    out: List[str] = []
    for word in _WORDS.findall(text):
        if word == '"':  # quotes around a word ("seeing ""spots""") are not a pause
            continue
        word = spellings.get(word, word)
        out.append(shorthand.get(word, word))
    return " ".join(out)


def dropped_g(word: str, vocabulary: Set[str]) -> str:
    """ "hurtin" -> "hurting", only where the result is a lexicon word."""
    if len(word) > 4 and word.endswith("in") and word + "g" in vocabulary:
        return word + "g"
    return word


def words_of(
    text: str, spellings: Dict[str, str], shorthand: Dict[str, str], vocabulary: Set[str]
) -> List[str]:
    """The message as the detector's list of words."""
    return [dropped_g(w, vocabulary) for w in normalise(text, spellings, shorthand).split()]
