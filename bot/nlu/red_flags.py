"""Deterministic red-flag detection: a symptom lexicon matched with spaCy, read in context.

The lexicon (red_flag_lexicon.yml) says which words name a warning sign and how
urgent it is. A match is a *report* unless its context says otherwise, as in
clinical NLP's NegEx / ConText:

- negated          "no numbness, just sore", "haven't had any tingling"
- hypothetical     "what if I get a fever", "call if the wound drains"
- question         "is numbness normal?" (but "is it normal that my foot is numb?" is a report)
- definition       "chest pain means 911, right?"
- historical       "I fainted once in 1998", "before the procedure"
- resolved         "it wore off before we left"
- chronic          "numb for years from neuropathy, same as always"
- other_person     "my neighbor had chest pain" (a caregiver's "mom passed out" is a report)

The pipeline is built once per process (`detector()`), on spacy.blank("en").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import spacy
import yaml
from spacy.matcher import Matcher
from spacy.tokens import Doc

LEXICON_PATH = Path(__file__).with_name("red_flag_lexicon.yml")
REPORT = "report"
ASKED = ("question", "hypothetical", "definition")

_SENTENCE_END = {".", "!", "?", "\n"}
_CLAUSE_WORDS = {"but", "however", "although", "though", "yet", "except", "otherwise"}
_NEGATION_STOPS = _CLAUSE_WORDS | {"and", "because", "so", "while", "since"}
_GAP_BLOCKERS = sorted(_CLAUSE_WORDS | {"no", "not", "never", "without", "nothing", "none", "if"})
_NUMBER_WORDS = {
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "many",
    "several",
    "a",
    "few",
}
_YEAR = re.compile(r"^(19|20)\d\d$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_TEMP_WORDS = {"temp", "temperature", "fever", "thermometer", "degrees", "f", "c", "running"}


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

    @property
    def reports(self) -> Tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status == REPORT)

    @property
    def tier(self) -> Optional[str]:
        """The most urgent tier among the reports, or None."""
        tiers = {f.tier for f in self.reports}
        return next((t for t in self.tier_order if t in tiers), None)

    @property
    def symptoms(self) -> List[str]:
        return sorted({f.symptom for f in self.reports})

    @property
    def asked(self) -> List[Finding]:
        """Symptoms asked or wondered about, not reported."""
        return [f for f in self.findings if f.status in ASKED]

    @property
    def asked_tier(self) -> Optional[str]:
        tiers = {f.tier for f in self.asked}
        return next((t for t in self.tier_order if t in tiers), None)


# --- normalisation -----------------------------------------------------------

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "`": "'"})
_CONTRACTIONS = [
    (re.compile(r"\bcan'?t\b|\bcan not\b|\bcannot\b|\bcnt\b"), "cannot"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\b(\w+)n't\b"), r"\1 not"),
    (re.compile(r"\bi'm\b"), "i am"),
    (re.compile(r"\b(i|you|we|they)'ve\b"), r"\1 have"),
    (re.compile(r"\b(i|you|we|they|he|she)'ll\b"), r"\1 will"),
    (re.compile(r"\b(it|that|there|what|he|she)'s\b"), r"\1 is"),
    (re.compile(r"\b(you|we|they)'re\b"), r"\1 are"),
    (re.compile(r"'s\b"), ""),
    (re.compile(r"(\d)\s*°?\s*(f|c)\b"), r"\1 \2"),
    (re.compile(r"(\d)(am|pm)\b"), r"\1 \2"),
]


def normalise(text: str, spellings: Dict[str, str], shorthand: Dict[str, str]) -> str:
    """Lower-case text with contractions expanded and lay spellings fixed."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    words = re.findall(r"\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)?|[^\sa-z\d]", text)
    out: List[str] = []
    for word in words:
        word = spellings.get(word, word)
        out.append(shorthand.get(word, word))
    return " ".join(out)


# --- the lexicon compiled to Matcher patterns ---------------------------------


def _token_spec(item: str, sets: Dict[str, List[str]]) -> List[Dict[str, Any]]:
    if re.fullmatch(r"\*\d+", item):
        gap = {"LOWER": {"NOT_IN": _GAP_BLOCKERS}, "IS_PUNCT": False, "OP": "?"}
        return [dict(gap) for _ in range(int(item[1:]))]
    optional = item.endswith("?") and len(item) > 1
    if optional:
        item = item[:-1]
    words: List[str] = []
    for alternative in _alternatives(item):
        words.extend(sets[alternative[1:]] if alternative.startswith("@") else [alternative])
    regexes = [w[1:-1] for w in words if w.startswith("/") and w.endswith("/") and len(w) > 1]
    plain = [w for w in words if not (w.startswith("/") and w.endswith("/") and len(w) > 1)]
    if True:
        if regexes:
            joined = "|".join([*regexes, *(f"^{re.escape(w)}$" for w in plain)])
            spec = {"LOWER": {"REGEX": joined}}
        elif len(plain) == 1:
            spec = {"LOWER": plain[0]}
        else:
            spec = {"LOWER": {"IN": plain}}
    if optional:
        spec["OP"] = "?"
    return [spec]


def _alternatives(item: str) -> List[str]:
    """Split "a|/re(x|y)/|@set" at the top-level bars, keeping /regexes/ whole."""
    parts: List[str] = []
    current = ""
    in_regex = False
    for char in item:
        if char == "/" and (not current or in_regex):
            in_regex = not in_regex
        if char == "|" and not in_regex:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return [p for p in parts if p]


def compile_pattern(pattern: str, sets: Dict[str, List[str]]) -> List[Dict[str, Any]]:
    """One lexicon pattern string as a spaCy Matcher pattern."""
    specs: List[Dict[str, Any]] = []
    for item in pattern.split():
        specs.extend(_token_spec(item, sets))
    return specs


class RedFlagDetector:
    """Finds red-flag symptoms in a message and decides which are reports."""

    def __init__(self, lexicon: Dict[str, Any], fever_threshold_f: float = 101.0) -> None:
        self.nlp = spacy.blank("en")
        self.tiers: Tuple[str, ...] = tuple(lexicon["tiers"])
        self.spellings: Dict[str, str] = lexicon.get("spellings") or {}
        self.shorthand: Dict[str, str] = lexicon.get("shorthand") or {}
        self.context: Dict[str, Any] = _phrases(lexicon["context"])
        self.vocabulary = _vocabulary(lexicon)
        self.symptom_tier: Dict[str, str] = {}
        self.matcher = Matcher(self.nlp.vocab)
        self.excluder = Matcher(self.nlp.vocab)
        sets = lexicon.get("sets") or {}
        for name, entry in lexicon["symptoms"].items():
            self.symptom_tier[name] = entry["tier"]
            self.matcher.add(name, [compile_pattern(p, sets) for p in entry["patterns"]])
            if entry.get("exclude"):
                self.excluder.add(name, [compile_pattern(p, sets) for p in entry["exclude"]])
        self.fever_threshold_f = fever_threshold_f
        self.fever_threshold_c = (fever_threshold_f - 32) * 5 / 9

    # -- public ------------------------------------------------------------

    def detect(self, text: str) -> Detection:
        """All symptom mentions in `text`, each with its context status."""
        words = [
            self._dropped_g(w) for w in normalise(text, self.spellings, self.shorthand).split()
        ]
        doc = Doc(self.nlp.vocab, words=words)
        excluded = self._excluded(doc)
        spans: List[Tuple[str, int, int]] = []
        unrelated: Dict[str, Finding] = {}
        for match_id, start, end in self.matcher(doc):
            name = self.nlp.vocab.strings[match_id]
            if any(s < end and start < e for s, e in excluded.get(name, [])):
                words_ = " ".join(words[start:end])
                unrelated[name] = Finding(name, self.symptom_tier[name], "unrelated", words_)
                continue
            spans.append((name, start, end))
        spans.extend(("fever", i, i + 1) for i in self._fever_readings(words))
        findings: Dict[Tuple[str, str], Finding] = {}
        statuses: List[Tuple[int, str]] = []  # (end, status) of earlier matches
        for name, start, end in self._longest_per_symptom(spans):
            status = self._listed_status(words, start, statuses) or self._status(words, start, end)
            statuses.append((end, status))
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
        return Detection(tuple(findings.values()), self.tiers, self._cues(words))

    def _cues(self, words: Sequence[str]) -> Tuple[str, ...]:
        """Context cues anywhere in the message (negation, past, someone else...),
        used when the classifier alone calls a message a report."""
        found = []
        for key in (
            "negation",
            "hypothetical",
            "historical",
            "resolved",
            "chronic",
            "other_person",
            "definition",
        ):
            if self._any(words, self.context[key]["triggers"], 0, len(words)):
                found.append(key)
        if any(_YEAR.match(w) for w in words):
            found.append("historical")
        return tuple(sorted(set(found)))

    @staticmethod
    def _listed_status(
        words: Sequence[str], start: int, earlier: List[Tuple[int, str]]
    ) -> Optional[str]:
        """A symptom listed after another ("watch for numbness, tingling or weakness")
        shares the context of the first one."""
        i = start - 1
        while i >= 0 and words[i] in {",", "or", "and", "nor"}:
            i -= 1
        if i == start - 1:
            return None
        for end, status in reversed(earlier):
            if end == i + 1:
                return status
        return None

    def _dropped_g(self, word: str) -> str:
        """ "hurtin" -> "hurting", only where the result is a lexicon word."""
        if len(word) > 4 and word.endswith("in") and word + "g" in self.vocabulary:
            return word + "g"
        return word

    # -- matching helpers ----------------------------------------------------

    def _excluded(self, doc: Doc) -> Dict[str, List[Tuple[int, int]]]:
        found: Dict[str, List[Tuple[int, int]]] = {}
        for match_id, start, end in self.excluder(doc):
            found.setdefault(self.nlp.vocab.strings[match_id], []).append((start, end))
        return found

    @staticmethod
    def _longest_per_symptom(spans: List[Tuple[str, int, int]]) -> List[Tuple[str, int, int]]:
        """Drop a match that lies inside a longer match of the same symptom."""
        spans = sorted(set(spans), key=lambda s: (s[1], -(s[2] - s[1])))
        kept: List[Tuple[str, int, int]] = []
        for name, start, end in spans:
            if any(n == name and s <= start and end <= e for n, s, e in kept):
                continue
            kept.append((name, start, end))
        return kept

    def _fever_readings(self, words: Sequence[str]) -> List[int]:
        """Indexes of temperature readings at or above the clinic's threshold."""
        hits = []
        for i, word in enumerate(words):
            if not _NUMBER.match(word):
                continue
            value = float(word)
            start, end = self._clause(words, i)
            nearby = set(words[start:end])
            if not nearby & _TEMP_WORDS:
                continue
            unit = words[i + 1] if i + 1 < len(words) else ""
            celsius = unit == "c" or (unit != "f" and value <= 43.5)
            in_range = (
                self.fever_threshold_c <= value <= 43.5
                if celsius
                else self.fever_threshold_f <= value <= 110
            )
            if in_range:
                hits.append(i)
        return hits

    # -- context ---------------------------------------------------------------

    @staticmethod
    def _sentence(words: Sequence[str], i: int) -> Tuple[int, int]:
        start = i
        while start > 0 and words[start - 1] not in _SENTENCE_END:
            start -= 1
        end = i
        while end < len(words) and words[end] not in _SENTENCE_END:
            end += 1
        return start, end

    @staticmethod
    def _clause(words: Sequence[str], i: int, stops: Set[str] = _CLAUSE_WORDS) -> Tuple[int, int]:
        breaks = _SENTENCE_END | {",", ";", ":", "-"} | stops
        start = i
        while start > 0 and words[start - 1] not in breaks:
            start -= 1
        end = i
        while end < len(words) and words[end] not in breaks:
            end += 1
        return start, end

    @staticmethod
    def _find(words: Sequence[str], phrase: Sequence[str], start: int, end: int) -> List[int]:
        """Start indexes of `phrase` within words[start:end] ('#' is any number)."""
        hits = []
        n = len(phrase)
        for i in range(start, max(start, end - n + 1)):
            if all(
                (p == "#" and (_NUMBER.match(w) or w in _NUMBER_WORDS)) or w == p
                for p, w in zip(phrase, words[i : i + n], strict=False)
            ):
                hits.append(i)
        return hits

    def _any(
        self,
        words: Sequence[str],
        triggers: List[List[str]],
        start: int,
        end: int,
        outside: Tuple[int, int] = (0, 0),
    ) -> bool:
        for trigger in triggers:
            for i in self._find(words, trigger, start, end):
                if not (outside[0] <= i < outside[1]):
                    return True
        return False

    def _status(self, words: Sequence[str], start: int, end: int) -> str:
        ctx = self.context
        c_start, c_end = self._clause(words, start)
        c_end = max(c_end, self._clause(words, end - 1)[1])
        s_start, s_end = self._sentence(words, start)
        inside = (start, end)

        if self._negated(words, start, c_start):
            return "negated"
        if self._any(words, ctx["hypothetical"]["triggers"], c_start, start):
            return "hypothetical"
        if self._any(words, ctx["definition"]["triggers"], end, c_end):
            return "definition"
        onset = self._onset(words, c_start, c_end, s_start, s_end, inside)
        past = self._any(words, ctx["historical"]["triggers"], c_start, c_end, inside) or any(
            _YEAR.match(w) for w in words[c_start:c_end]
        )
        if past and not onset:
            return "historical"
        if self._any(words, ctx["other_person"]["triggers"], c_start, c_end, inside) or self._any(
            words, ctx["other_person"]["sentence"], s_start, s_end, inside
        ):
            return "other_person"
        if not onset and self._any(words, ctx["resolved"]["triggers"], end, s_end):
            return "historical"
        if not onset and self._any(words, ctx["chronic"]["triggers"], s_start, s_end, inside):
            return "chronic"
        if self._is_question(words, c_start, c_end, start, end):
            return "question"
        return REPORT

    def _onset(
        self,
        words: Sequence[str],
        c_start: int,
        c_end: int,
        s_start: int,
        s_end: int,
        inside: Tuple[int, int],
    ) -> bool:
        """The match's clause says the symptom is new or current ("since the procedure")
        outside any chronic or resolved phrase ("nothing new", "gone now")."""
        covered = set(range(*inside))
        for key in ("chronic", "resolved"):
            for phrase in self.context[key]["triggers"]:
                for i in self._find(words, phrase, s_start, s_end):
                    covered.update(range(i, i + len(phrase)))
        for phrase in self.context["onset"]:
            for i in self._find(words, phrase, c_start, c_end):
                if not covered & set(range(i, i + len(phrase))):
                    return True
        return False

    def _negated(self, words: Sequence[str], start: int, clause_start: int) -> bool:
        window = self.context["negation"]["window"]
        lo = max(clause_start, start - window)
        for i in range(start - 1, lo - 1, -1):
            if words[i] in _NEGATION_STOPS:
                return False
            if words[i] == "," and not self._list_continues(words, i):
                return False
            for trigger in self.context["negation"]["triggers"]:
                if words[i : i + len(trigger)] == trigger and i + len(trigger) <= start:
                    return True
        return False

    @staticmethod
    def _list_continues(words: Sequence[str], comma: int) -> bool:
        """A comma inside a negated list ("no fever, chills or numbness")."""
        before = words[max(0, comma - 3) : comma]
        return "no" in before or "not" in before

    def _is_question(
        self, words: Sequence[str], c_start: int, c_end: int, start: int, end: int
    ) -> bool:
        """A question about the symptom in general, not about the patient's own body."""
        ctx = self.context
        clause = list(words[c_start:c_end])
        if len(clause) < 2 or clause[0] not in ctx["question_words"] or clause[1] == "not":
            return False
        asks = bool(set(clause[:3]) & set(ctx["auxiliaries"]))
        if not asks and "?" not in words[c_end : c_end + 1] and "?" not in words[-1:]:
            return False  # "where they put the needle in is swollen": not a question
        if set(words[c_start:start]) & set(ctx["modal"]):
            return True
        return not self._personal(words, c_start, start, end)

    def _personal(self, words: Sequence[str], c_start: int, start: int, end: int) -> bool:
        """The symptom is the patient's own: "my foot is numb", "this tingling", "i have"."""
        possessive = set(self.context["personal"]["possessive"])
        near = words[max(c_start, start - 3) : end]
        if possessive & set(near):
            return True
        if start > 0 and words[start - 1] in {"this", "these", *self.context["pronouns"]}:
            return True
        return any(
            self._find(words, phrase, c_start, start)
            for phrase in self.context["personal"]["experiencer"]
        )


def _phrases(context: Dict[str, Any]) -> Dict[str, Any]:
    """Context cues as word lists: "wore off" -> ["wore", "off"]."""
    out: Dict[str, Any] = {}
    for key, value in context.items():
        if isinstance(value, dict):
            out[key] = _phrases(value)
        elif isinstance(value, list) and key not in {
            "question_words",
            "modal",
            "possessive",
            "auxiliaries",
            "pronouns",
        }:
            out[key] = [str(v).split() for v in value]
        else:
            out[key] = value
    return out


def _vocabulary(lexicon: Dict[str, Any]) -> Set[str]:
    """Every plain word the lexicon's patterns and sets name."""
    words: Set[str] = set()
    for values in (lexicon.get("sets") or {}).values():
        words.update(values)
    for entry in lexicon["symptoms"].values():
        for pattern in entry["patterns"]:
            for item in pattern.split():
                words.update(w for w in item.rstrip("?").split("|") if w.isalpha())
    return words


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
