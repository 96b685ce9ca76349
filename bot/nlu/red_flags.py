"""Deterministic red-flag detection: a symptom lexicon matched with spaCy, read in context.

The lexicon (red_flag_lexicon.yml) says which words name a warning sign and how
urgent it is. A match is a *report* unless its context says otherwise, as in
clinical NLP's NegEx / ConText (bot/nlu/context.py says how, and why medspacy
itself is not used):

- negated          "no numbness, just sore", "haven't had any tingling"
- hypothetical     "what if I get a fever", "call if the wound drains"
- question         "is numbness normal?" (but "is it normal that my foot is numb?" is a report)
- definition       "chest pain means 911, right?"
- historical       "I fainted once in 1998", "felt faint from the sedation, fine since"
- chronic          "numb for years from neuropathy, same as always"
- other_person     "my neighbor had chest pain" (a caregiver's "mom passed out" is a report)
- background       "my frail mother has leg weakness, is she a candidate?"
- uncertain        not clearly a report, but something changed: ask "Are you having this now?"
Compared with before ("worse than before", "wasn't there before") is new: a report.

Three parts: bot/nlu/normalise.py (text to words), bot/nlu/patterns.py (lexicon
patterns to spaCy Matcher patterns), bot/nlu/context.py (the context engine). The
whole message is read, in time linear in its length. The pipeline is built once
per process (`detector()`), on spacy.blank("en").
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import spacy
import yaml
from spacy.matcher import Matcher
from spacy.tokens import Doc

from bot.nlu.context import (
    ASKED,
    NUMBER,
    REPORT,
    UNCERTAIN,
    ContextEngine,
    CueTable,
    phrases,
)
from bot.nlu.normalise import normalise, words_of
from bot.nlu.patterns import compile_pattern, symptom_words, vocabulary

__all__ = [
    "ASKED", "REPORT", "UNCERTAIN", "Detection", "Finding", "RedFlagDetector", "detector",
    "fever_threshold_f", "load_lexicon", "normalise",
]  # fmt: skip

_LONGEST = 64  # words: longer than any compiled pattern (gaps included)
_STRIDE = _LONGEST  # the Matcher reads windows of 2 * _STRIDE words, _STRIDE apart
LEXICON_PATH = Path(__file__).with_name("red_flag_lexicon.yml")
_CUE_KEYS = ("negation", "hypothetical", "historical", "resolved", "chronic", "other_person",
             "definition")  # fmt: skip


@dataclass(frozen=True)
class Finding:
    """One symptom mention: what, how urgent, and whether it is a report."""

    symptom: str
    tier: str
    status: str
    words: str


@dataclass(frozen=True)
class Detection:
    """Everything the lexicon found in one message."""

    findings: Tuple[Finding, ...]
    tier_order: Tuple[str, ...]
    cues: Tuple[str, ...] = ()
    operations: int = 0  # steps the context engine took: linear in the message
    # the message holds a word some symptom pattern names ("leg", "pee", "worse"), whether
    # or not a pattern matched: without one, a classifier's "report" has nothing to stand on
    names_symptom_word: bool = True
    # the message asks something ("?"): a classifier's "report" alone is then asked about
    asks: bool = False

    @property
    def reports(self) -> Tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status == REPORT)

    @property
    def tier(self) -> Optional[str]:
        """The most urgent tier among the reports, or None."""
        return self._top({f.tier for f in self.reports})

    @property
    def symptoms(self) -> List[str]:
        return sorted({f.symptom for f in self.reports})

    @property
    def asked(self) -> List[Finding]:
        """Symptoms asked or wondered about, or not clearly reported: not reports."""
        return [f for f in self.findings if f.status in ASKED]

    @property
    def asked_tier(self) -> Optional[str]:
        return self._top({f.tier for f in self.asked})

    @property
    def uncertain(self) -> bool:
        """A symptom named with a sign of change, but not clearly a report."""
        return any(f.status == UNCERTAIN for f in self.findings)

    def _top(self, tiers: set) -> Optional[str]:
        return next((t for t in self.tier_order if t in tiers), None)


class RedFlagDetector:
    """Finds red-flag symptoms in a message and decides which are reports."""

    def __init__(self, lexicon: Dict[str, Any], fever_threshold_f: float = 101.0) -> None:
        self.nlp = spacy.blank("en")
        self.tiers: Tuple[str, ...] = tuple(lexicon["tiers"])
        self.spellings: Dict[str, str] = lexicon.get("spellings") or {}
        self.shorthand: Dict[str, str] = lexicon.get("shorthand") or {}
        self.context: Dict[str, Any] = phrases(lexicon["context"])
        self.vocabulary = vocabulary(lexicon)
        self.symptom_words, self.symptom_regex = symptom_words(lexicon)
        self.cue_table = CueTable(self.context)
        self.symptom_tier: Dict[str, str] = {}
        sets = lexicon.get("sets") or {}
        listed: List[Tuple[int, str, List[Dict[str, Any]]]] = []  # (0 symptom | 1 exclude, ...)
        for name, entry in lexicon["symptoms"].items():
            self.symptom_tier[name] = entry["tier"]
            for side, part in enumerate(("patterns", "exclude")):
                listed += [(side, name, compile_pattern(p, sets)) for p in entry.get(part) or []]
        compiled = [pattern for _, _, pattern in listed]
        self._anchor = _Anchors(compiled)
        self._key = _Keys(compiled)
        # one (symptom, excluded-sense) Matcher pair per key: a window runs only the
        # pairs whose key word it holds, not every pattern on every word
        self.matchers: Dict[int, Tuple[Matcher, Matcher]] = {}
        for (side, name, pattern), key in zip(listed, self._key.of_pattern, strict=True):
            if key not in self.matchers:
                self.matchers[key] = (Matcher(self.nlp.vocab), Matcher(self.nlp.vocab))
            self.matchers[key][side].add(name, [pattern])
        self.fever_threshold_f = fever_threshold_f
        self.fever_threshold_c = (fever_threshold_f - 32) * 5 / 9

    def words(self, text: str) -> List[str]:
        return words_of(text, self.spellings, self.shorthand, self.vocabulary)

    def detect(self, text: str, reports_only: bool = False) -> Detection:
        """All symptom mentions in `text`, each with its context status. `reports_only`:
        a symptom already found as a report is not read again (what the whole-message
        scan of a long message needs: its reports' tiers and symptoms)."""
        words = self.words(text)
        engine = ContextEngine(self.context, words, self.cue_table)
        matches, excluded_matches = self._match(words)
        excluded = self._excluded(excluded_matches)
        spans: List[Tuple[str, int, int]] = []
        unrelated: Dict[str, Finding] = {}
        for name, start, end in matches:
            if _overlaps(excluded.get(name, []), start, end):
                words_ = " ".join(words[start:end])
                unrelated[name] = Finding(name, self.symptom_tier[name], "unrelated", words_)
                continue
            spans.append((name, start, end))
        readings = self._fever_readings(words, engine)
        spans.extend(("fever", i, i + 1) for i in readings)
        # "a slight fever, 99.8": the word is answered by the number, under the threshold;
        # asked about ("Are you having this now?") rather than reported
        measured_low = not readings and bool(self._fever_readings(words, engine, below=True))
        findings: Dict[Tuple[str, str], Finding] = {}
        for name, start, end in _longest_per_symptom(spans):
            if reports_only and (name, REPORT) in findings:
                continue
            status = engine.status(start, end)
            if name == "fever" and status == REPORT and measured_low:
                status = "question"
            finding = Finding(name, self.symptom_tier[name], status, " ".join(words[start:end]))
            findings.setdefault((name, status), finding)
        for name, places in excluded.items():  # another sense of the words: "cabin fever"
            start, end = places[0]
            unrelated.setdefault(
                name,
                Finding(name, self.symptom_tier[name], "unrelated", " ".join(words[start:end])),
            )
        for name, finding in unrelated.items():
            findings.setdefault((name, "unrelated"), finding)
        cues = [key for key in _CUE_KEYS if engine.found(key)]
        if engine.found("year"):
            cues.append("historical")
        return Detection(
            tuple(findings.values()),
            self.tiers,
            tuple(sorted(set(cues))),
            engine.operations,
            names_symptom_word=self._names_symptom_word(words),
            asks="?" in words,
        )

    def _names_symptom_word(self, words: List[str]) -> bool:
        return any(
            w in self.symptom_words or (w.isalpha() and self.symptom_regex.search(w)) for w in words
        )

    def _match(
        self, words: List[str]
    ) -> Tuple[List[Tuple[str, int, int]], List[Tuple[str, int, int]]]:
        """Symptom and excluded-sense matches over the whole message, in linear time.

        spaCy's Matcher costs ~0.2 ms a word with every pattern in it (it evaluates
        every set and regex predicate of every pattern on every word), so it reads only
        windows of 2 * _STRIDE words whose first half holds a word that can start a
        pattern, keeps the matches that start in that half (no pattern is longer than
        _STRIDE words), and reuses the result for a window it has already read. In a
        window it runs only the Matchers of the patterns whose key (`_Keys`: a required
        word) the window holds; a window holding none is not read at all."""
        found: Tuple[List[Tuple[str, int, int]], List[Tuple[str, int, int]]] = ([], [])
        seen: Dict[Tuple[str, ...], Tuple[List[Tuple[str, int, int]], ...]] = {}
        strings = self.nlp.vocab.strings
        for lo in range(0, max(len(words), 1), _STRIDE):
            if not any(self._anchor(w) for w in words[lo : lo + _STRIDE]):
                continue
            keys = set().union(*(self._key(w) for w in words[lo : lo + 2 * _STRIDE]))
            if not keys:
                continue
            window = tuple(words[lo : lo + 2 * _STRIDE])
            if window not in seen:
                doc = Doc(self.nlp.vocab, words=list(window))
                pairs = [self.matchers[k] for k in sorted(keys)]
                seen[window] = tuple(
                    sorted(
                        {
                            (strings[m], s, e)
                            for pair in pairs
                            if len(pair[side])
                            for m, s, e in pair[side](doc)
                        },
                        key=lambda match: (match[1], match[2], match[0]),
                    )
                    for side in (0, 1)
                )
                seen[window] = tuple(
                    [match for match in matches if match[1] < _STRIDE] for matches in seen[window]
                )
            for out, results in zip(found, seen[window], strict=True):
                out.extend((name, lo + s, lo + e) for name, s, e in results)
        return found

    def _excluded(self, matches: List[Tuple[str, int, int]]) -> Dict[str, List[Tuple[int, int]]]:
        found: Dict[str, List[Tuple[int, int]]] = {}
        for name, start, end in matches:
            found.setdefault(name, []).append((start, end))
        for places in found.values():
            places.sort()
        return found

    def _fever_readings(
        self, words: Sequence[str], engine: ContextEngine, below: bool = False
    ) -> List[int]:
        """Indexes of temperature readings at or above the clinic's threshold (`below`:
        the readings of a body temperature under it, 95-threshold F or 35-threshold C)."""
        hits = []
        for i, word in enumerate(words):
            if not NUMBER.match(word):
                continue
            value = float(word)
            start, end = engine.clause(i)
            if below:  # "a slight fever, 99.8": the word may sit just across a comma
                start, end = max(0, i - 4), min(len(words), i + 3)
            if not engine.cues["temperature"].any(start, end):
                continue
            unit = words[i + 1] if i + 1 < len(words) else ""
            celsius = unit == "c" or (unit != "f" and value <= 43.5)
            if below:
                in_range = (
                    35.0 <= value < self.fever_threshold_c
                    if celsius
                    else 95.0 <= value < self.fever_threshold_f
                )
            else:
                in_range = (
                    self.fever_threshold_c <= value <= 43.5
                    if celsius
                    else self.fever_threshold_f <= value <= 110
                )
            if in_range:
                hits.append(i)
        return hits


class _Anchors:
    """Can a word start a pattern? Answered from the patterns' leading tokens, once per
    distinct word."""

    def __init__(self, patterns: List[List[Dict[str, Any]]]) -> None:
        self.words: set = set()
        regexes: List[str] = []
        for pattern in patterns:
            for spec in pattern:  # up to the first token that must be there
                value = spec.get("LOWER") or {}
                if isinstance(value, str):
                    self.words.add(value)
                elif "IN" in value:
                    self.words.update(value["IN"])
                elif "REGEX" in value:
                    regexes.append(value["REGEX"])
                else:  # a gap first: any word may start it
                    regexes.append("")
                if spec.get("OP") != "?":
                    break
        self.regex = re.compile("|".join(f"(?:{r})" for r in regexes) or "(?!)")
        self.cache: Dict[str, bool] = {}

    def __call__(self, word: str) -> bool:
        hit = self.cache.get(word)
        if hit is None:
            hit = word in self.words or bool(self.regex.search(word))
            if len(self.cache) < 100_000:
                self.cache[word] = hit
        return hit


class _Keys:
    """Which patterns' keys a word passes. Each pattern's key is the required token least
    likely to be a common word (the smallest share of stop words among its
    alternatives, the later on a tie): a match needs a word that passes it.
    `of_pattern[i]` is pattern i's key; `self(word)` the keys a word passes, once per
    distinct word."""

    def __init__(self, patterns: List[List[Dict[str, Any]]]) -> None:
        from spacy.lang.en.stop_words import STOP_WORDS

        def commonness(index: int, spec: Dict[str, Any]) -> Tuple[float, int]:
            value = spec["LOWER"]
            alternatives = [value] if isinstance(value, str) else value.get("IN", [])
            # punctuation is the commonest token of all: never a pattern's key
            common = sum(a in STOP_WORDS or not any(c.isalnum() for c in a) for a in alternatives)
            return (common / len(alternatives) if alternatives else 0.0, -index)

        ids: Dict[str, int] = {}
        self.literal: Dict[str, set] = {}  # word -> keys it passes
        self.regexes: List[Tuple[int, re.Pattern]] = []
        self.of_pattern: List[int] = []
        for pattern in patterns:
            required = [
                (i, spec)
                for i, spec in enumerate(pattern)
                if "OP" not in spec and isinstance(spec.get("LOWER"), str | dict)
            ]
            value = (
                min(required, key=lambda item: commonness(*item))[1]["LOWER"] if required else {}
            )
            name = repr(value)
            if name not in ids:
                ids[name] = len(ids)
                if isinstance(value, str) or "IN" in value:
                    for word in [value] if isinstance(value, str) else value["IN"]:
                        self.literal.setdefault(word, set()).add(ids[name])
                else:  # a regex, or (never in the lexicon) no usable token: any word
                    self.regexes.append((ids[name], re.compile(value.get("REGEX", ""))))
            self.of_pattern.append(ids[name])
        self.any_regex = re.compile("|".join(f"(?:{r.pattern})" for _, r in self.regexes) or "(?!)")
        self.cache: Dict[str, frozenset] = {}

    def __call__(self, word: str) -> frozenset:
        hit = self.cache.get(word)
        if hit is None:
            keys = set(self.literal.get(word, ()))
            if self.any_regex.search(word):
                keys.update(key for key, regex in self.regexes if regex.search(word))
            hit = frozenset(keys)
            if len(self.cache) < 100_000:
                self.cache[word] = hit
        return hit


def _overlaps(places: List[Tuple[int, int]], start: int, end: int) -> bool:
    """Any (s, e) in the sorted `places` overlapping [start, end): a binary search."""
    j = bisect_left(places, (end, -1)) - 1
    # a pattern is at most _LONGEST words, so only places starting after start - _LONGEST count
    while j >= 0 and places[j][0] > start - _LONGEST:
        if start < places[j][1]:
            return True
        j -= 1
    return False


def _longest_per_symptom(spans: List[Tuple[str, int, int]]) -> List[Tuple[str, int, int]]:
    """Drop a match that lies inside a longer match of the same symptom: one sorted sweep
    (every kept match of a symptom starts no later, so only the furthest end matters)."""
    kept: List[Tuple[str, int, int]] = []
    furthest: Dict[str, int] = {}
    for name, start, end in sorted(set(spans), key=lambda s: (s[1], -(s[2] - s[1]))):
        if end <= furthest.get(name, -1):
            continue
        furthest[name] = end
        kept.append((name, start, end))
    return kept


def load_lexicon(path: Path = LEXICON_PATH) -> Dict[str, Any]:
    """The lexicon as data."""
    return yaml.safe_load(path.read_text())


def fever_threshold_f(setting: str) -> float:
    """Parse a setting such as "101 F" or "38.3 C" to degrees Fahrenheit."""
    match = re.match(r"\s*(\d+(?:\.\d+)?)\s*°?\s*([fFcC])?", setting)
    if not match:
        return 101.0
    value = float(match.group(1))
    return value * 9 / 5 + 32 if (match.group(2) or "f").lower() == "c" else value


@lru_cache(maxsize=4)
def detector(threshold_f: float = 101.0) -> RedFlagDetector:
    """The detector for this process, built once per threshold."""
    return RedFlagDetector(load_lexicon(), threshold_f)
