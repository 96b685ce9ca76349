"""Reading a check-in reply as patients write it: pure functions, no database.

- a pain score: "7", "7/10", "7 out of 10", "seven", "about a 6", "6-7" (the higher);
- a numbered choice: "2", "#2", "2." for a choice question;
- words from the schedule's options, in any reply: "better", "much worse", "not worse"
  (the longest match wins; when two meanings are found, the one that alerts wins);
- a question ("can I shower yet?"): answered by the assistant, the check-in stays open;
- anything else is unread free text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from bot.checkins.schedule import Option

PAIN = "pain"
CHOICE = "choice"
QUESTION = "question"
FREE_TEXT = "free_text"

NUMBER_WORDS = {
    "zero": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
QUESTION_WORDS = {
    "can", "could", "should", "is", "are", "do", "does", "how", "what", "when", "why",
    "will", "may", "am", "where", "which", "who",
}  # fmt: skip
_OUT_OF_TEN = re.compile(r"\s*(?:/|out of|of)\s*10\b")
_WORD = re.compile(r"[a-z0-9]+")
_BARE_CHOICE = re.compile(r"^\s*#?\s*(\d)\s*[.)]?\s*$")


@dataclass(frozen=True)
class Reading:
    """What a reply says: its kind, its value (a score or a choice's meaning), and whether
    the value itself needs a call (a choice that alerts; pain scores are judged later)."""

    kind: str
    value: Optional[str] = None
    alert: bool = False

    @property
    def score(self) -> Optional[int]:
        return int(self.value) if self.kind == PAIN and self.value is not None else None


def words(text: str) -> List[str]:
    return _WORD.findall(text.lower().replace("'", ""))


def is_question(text: str) -> bool:
    """A question in reply: ends with "?" or starts with a question word, in three words or
    more ("7?" is an answer)."""
    found = words(text)
    if len(found) < 3:
        return False
    return text.strip().endswith("?") or found[0] in QUESTION_WORDS


def pain_score(text: str) -> Optional[int]:
    """The pain score 0-10 in `text`, the highest when several are given; None if none or
    a number over 10 is given."""
    plain = _OUT_OF_TEN.sub(" ", text.lower())
    scores: List[int] = []
    for word in words(plain):
        if word.isdigit():
            scores.append(int(word))
        elif word in NUMBER_WORDS:
            scores.append(NUMBER_WORDS[word])
    if not scores or any(s > 10 for s in scores):
        return None
    return max(scores)


def option_by_number(text: str, options: Sequence[Option]) -> Optional[Option]:
    match = _BARE_CHOICE.match(text)
    if not match:
        return None
    return next((o for o in options if o.number == int(match[1])), None)


def option_by_words(text: str, options: Sequence[Option]) -> Optional[Option]:
    """The option whose words the text uses; longest phrases first, so "not worse" is not
    read as "worse"; an option that alerts wins over one that does not."""
    found = " " + " ".join(words(text)) + " "
    phrases: List[Tuple[int, str, Option]] = sorted(
        ((len(w), " " + " ".join(words(w)) + " ", o) for o in options for w in o.words),
        key=lambda item: -item[0],
    )
    hits: List[Option] = []
    for _, phrase, option in phrases:
        if phrase in found:
            hits.append(option)
            found = found.replace(phrase, " | ")
    if not hits:
        return None
    return next((o for o in hits if o.alert), hits[0])


def read(text: str, ask: str, options: Sequence[Option]) -> Reading:
    """What `text` says in answer to a check-in that asks `ask` (pain or choice)."""
    if is_question(text):
        return Reading(QUESTION)
    if ask == CHOICE:
        chosen = option_by_number(text, options)
        if chosen:
            return Reading(CHOICE, chosen.means, chosen.alert)
    worded = option_by_words(text, options)
    if ask == PAIN:
        score = pain_score(text)
        if score is not None:
            return Reading(PAIN, str(score), bool(worded and worded.alert))
    if worded:
        return Reading(CHOICE, worded.means, worded.alert)
    return Reading(FREE_TEXT)
