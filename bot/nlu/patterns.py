"""Pattern compiler: the lexicon's one-line symptom patterns as spaCy Matcher patterns.

Syntax, one token per space-separated item (see red_flag_lexicon.yml):
  word, a|b|c, /regex/, @set, item? (optional), *N (up to N ordinary words).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Set, Tuple

from bot.nlu.context import CLAUSE_WORDS

# a gap ("*N") never crosses punctuation, a negation or a clause break
GAP_BLOCKERS = sorted(CLAUSE_WORDS | {"no", "not", "never", "without", "nothing", "none", "if"})


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


def _is_regex(word: str) -> bool:
    return len(word) > 1 and word.startswith("/") and word.endswith("/")


def _token_spec(item: str, sets: Dict[str, List[str]]) -> List[Dict[str, Any]]:
    if re.fullmatch(r"\*\d+", item):
        gap = {"LOWER": {"NOT_IN": GAP_BLOCKERS}, "IS_PUNCT": False, "OP": "?"}
        return [dict(gap) for _ in range(int(item[1:]))]
    optional = item.endswith("?") and len(item) > 1
    if optional:
        item = item[:-1]
    words: List[str] = []
    for alternative in _alternatives(item):
        words.extend(sets[alternative[1:]] if alternative.startswith("@") else [alternative])
    regexes = [w[1:-1] for w in words if _is_regex(w)]
    plain = [w for w in words if not _is_regex(w)]
    spec: Dict[str, Any]
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


def compile_pattern(pattern: str, sets: Dict[str, List[str]]) -> List[Dict[str, Any]]:
    """One lexicon pattern string as a spaCy Matcher pattern."""
    specs: List[Dict[str, Any]] = []
    for item in pattern.split():
        specs.extend(_token_spec(item, sets))
    return specs


def vocabulary(lexicon: Dict[str, Any]) -> Set[str]:
    """Every plain word the lexicon's patterns and sets name."""
    words: Set[str] = set()
    for values in (lexicon.get("sets") or {}).values():
        words.update(values)
    for entry in lexicon["symptoms"].values():
        for pattern in entry["patterns"]:
            for item in pattern.split():
                words.update(w for w in item.rstrip("?").split("|") if w.isalpha())
    return words


def symptom_words(lexicon: Dict[str, Any]) -> Tuple[Set[str], re.Pattern[str]]:
    """The content words the symptom patterns name (their sets' words included) and their
    regexes as one: what a message must hold at least one of before the classifier alone
    may call it a report ("leg", "fever", "pee", "worse", "confused"; not "the", "here"
    or "about")."""
    from spacy.lang.en.stop_words import STOP_WORDS

    sets = lexicon.get("sets") or {}
    words: Set[str] = set()
    regexes: List[str] = []
    for entry in lexicon["symptoms"].values():
        for pattern in entry["patterns"]:
            for item in pattern.split():
                for part in _alternatives(item.rstrip("?")):
                    if part.startswith("@"):
                        words.update(sets[part[1:]])
                    elif _is_regex(part):
                        regexes.append(part[1:-1])
                    elif part.isalpha():
                        words.add(part)
    content = {w for w in words if w not in STOP_WORDS and len(w) > 2}
    return content, re.compile("|".join(f"(?:{r})" for r in regexes) or "(?!)")
