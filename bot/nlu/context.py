"""Context engine: is a symptom mention a report? ConText's ideas, in linear time.

ConText (Harkema et al. 2009; medspacy's `ConText` and its published rule set
resources/en/context_rules.json) gives every cue a category, a direction and a
scope that ends at a terminating word; a *pseudo-trigger* that contains a cue word
("not only", "no change in", "than before") is matched first and cancels the cue
inside it. We read a mention the same way, with categories for a patient's
message rather than a clinical note:

- negated          NEGATED_EXISTENCE, forward, window `negation.window` ("no numbness")
- hypothetical     HYPOTHETICAL, forward within the clause ("what if I get a fever")
- definition       backward ("chest pain means 911, right?")
- historical       HISTORICAL, whole clause ("in 1998", "before the procedure")
- resolved         a past event said to be over ("wore off", "fine since")
- chronic          long-standing and unchanged ("for years", "no change in")
- other_person     FAMILY, reversed: a caregiver's "mom passed out" is a report, a
                   neighbour's old chest pain is not
- background       a candidacy question ("is she a candidate?") about a condition
- question         asked about in general ("is numbness normal?")
- not a change     "walk again", "ever since": the change cue in them is taken away
- uncertain        a past, chronic or background reading in a sentence that also
                   says something changed ("new", "since", "worse", "started"): we
                   cannot tell, so the patient is asked "Are you having this now?"
POSSIBLE_EXISTENCE ("i think", "maybe") is kept a report on purpose: a patient
who thinks they have a fever is to call.
Clause words (but, however, ...) and punctuation terminate scopes, like
ConText's TERMINATE rules; `onset` cues ("new", "worse", "wasn't there before")
override historical, resolved and chronic readings in their clause.

Why not medspacy itself (checked 2026-12-01 in a scratch venv): medspacy 1.0.1,
the release whose range admits spaCy 3.4 (spacy>=3.4.1; 1.1.x-1.3.x sdists do not
build here), installs beside Rasa 3.6.21 with `pip check` clean, but it builds
medspacy-quickumls, medspacy-simstring, unqlite and quicksectx from source into the
Rasa server, and its ConTextGraph compares every modifier with every other and with
every target (`update_scopes`, `apply_modifiers`): "no numb " x 50 took 0.014 s and
x 400 took 0.99 s, the quadratic growth issue 13 is about. Its published rules
(resources/en/context_rules.json, 102 rules) are written for clinical notes
("ruled out", "h/o", "negative for") and have no pseudo-triggers for a patient's
"than before". So their ideas are here, as data (red_flag_lexicon.yml `context`),
and the engine below finds every cue once per message.

Cost: building a ContextEngine is O(n) in words, each mention's status a few
binary searches (O(log n)); the engine counts its steps in `operations` so a
test can bound the work without a clock.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Any, Dict, List, Optional, Sequence, Tuple

REPORT = "report"
UNCERTAIN = "uncertain"
ASKED = ("question", "hypothetical", "definition", UNCERTAIN)

SENTENCE_END = {".", "!", "?", "\n"}
CLAUSE_WORDS = {"but", "however", "although", "though", "yet", "except", "otherwise"}
NEGATION_STOPS = CLAUSE_WORDS | {"and", "because", "so", "while", "since"}
CLAUSE_BREAKS = SENTENCE_END | {",", ";", ":", "-"} | CLAUSE_WORDS
NUMBER_WORDS = {
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twenty",
    "thirty", "forty", "fifty", "many", "several", "a", "few",
}  # fmt: skip
YEAR = re.compile(r"^(19|20)\d\d$")
NUMBER = re.compile(r"^\d+(\.\d+)?$")
TEMP_WORDS = ["temp", "temperature", "fever", "thermometer", "degrees", "f", "c", "running"]

# categories a pseudo-trigger can cancel (onset, change and chronic cues it cannot:
# "no change in" is itself a chronic cue, "wasn't there before" an onset cue)
_PSEUDO_CANCELS = {
    "negation", "hypothetical", "definition", "historical", "resolved", "other_person",
    "other_person_sentence", "background",
}  # fmt: skip
# onset cues that say "now", not "worse": only these lift a hypothetical
# ("call if it gets worse" stays hypothetical; "told to call if numb, and now i am" not)
_PRESENT = {"now", "today", "tonight", "this", "since", "started", "starting", "suddenly"}
# onset cues that say "worse", "back" or "different": beside a past or chronic reading, in
# another clause of its sentence, they make it new ("numb before the procedure, but now
# it is worse")
_WORSE = {
    "worse", "worsening", "again", "came", "come", "coming", "is", "are", "feels", "brand", "out",
}  # fmt: skip
_FOLLOW_UP = {"it", "this", "that", "they", "these", "started", "i"}
_WORD_LISTS = {"question_words", "modal", "possessive", "auxiliaries", "pronouns"}


def phrases(context: Dict[str, Any]) -> Dict[str, Any]:
    """Context cues as word tuples: "wore off" -> ("wore", "off")."""
    out: Dict[str, Any] = {}
    for key, value in context.items():
        if isinstance(value, dict):
            out[key] = phrases(value)
        elif isinstance(value, list) and key not in _WORD_LISTS:
            out[key] = [tuple(str(v).split()) for v in value]
        else:
            out[key] = value
    return out


class Spans:
    """Sorted (start, end) spans of one cue category in one message."""

    def __init__(self, spans: List[Tuple[int, int]], engine: ContextEngine) -> None:
        self.spans = sorted(spans)
        self.starts = [s for s, _ in self.spans]
        self.engine = engine

    def __bool__(self) -> bool:
        return bool(self.spans)

    def any(self, lo: int, hi: int, avoid: Tuple[int, int] = (0, 0)) -> bool:
        """A span lying inside [lo, hi) that does not overlap `avoid`. Skips only spans
        that overlap `avoid` or run past `hi`, so it is O(log n) plus a constant."""
        k = bisect_left(self.starts, lo)
        while k < len(self.spans) and self.starts[k] < hi:
            self.engine.operations += 1
            s, e = self.spans[k]
            if e <= hi and not (s < avoid[1] and avoid[0] < e):
                return True
            k += 1
        return False

    def first(self, lo: int, hi: int) -> Optional[Tuple[int, int]]:
        """The first span lying inside [lo, hi), or None."""
        k = bisect_left(self.starts, lo)
        while k < len(self.spans) and self.starts[k] < hi:
            self.engine.operations += 1
            if self.spans[k][1] <= hi:
                return self.spans[k]
            k += 1
        return None

    def last(self, lo: int, hi: int) -> Optional[Tuple[int, int]]:
        """The last span starting inside [lo, hi) (it may end past hi), or None."""
        k = bisect_left(self.starts, hi) - 1
        self.engine.operations += 1
        return self.spans[k] if k >= 0 and self.starts[k] >= lo else None


class CueTable:
    """Every context phrase by its first word: built once per lexicon."""

    def __init__(self, ctx: Dict[str, Any]) -> None:
        table = {key: ctx[key]["triggers"] for key in (
            "negation", "hypothetical", "definition", "historical", "resolved", "chronic",
            "other_person", "background",
        )}  # fmt: skip
        table["other_person_sentence"] = ctx["other_person"]["sentence"]
        table["onset"] = ctx["onset"]
        table["change"] = ctx["change"]
        table["not_change"] = ctx.get("not_change", [])
        table["present"] = [p for p in ctx["onset"] if p[0] in _PRESENT]
        table["worse"] = [p for p in ctx["onset"] if p[0] in _WORSE]
        table["pseudo"] = ctx["pseudo"]
        table["experiencer"] = ctx["personal"]["experiencer"]
        table["modal"] = [(w,) for w in ctx["modal"]]
        table["temperature"] = [(w,) for w in TEMP_WORDS]
        self.keys = list(table)
        self.by_first: Dict[str, List[Tuple[Tuple[str, ...], str]]] = {}
        for key, items in table.items():
            for phrase in items:
                self.by_first.setdefault(phrase[0], []).append((phrase, key))


def _plain(status: str) -> str:
    return "historical" if status == "historical_over" else status


def _boundaries(words: Sequence[str], breaks: set) -> Tuple[List[int], List[int]]:
    """For each word, where its clause (or sentence) starts and ends: two passes."""
    n = len(words)
    start, end = [0] * n, [n] * n
    last = -1
    for i, word in enumerate(words):
        start[i] = last + 1
        if word in breaks:
            last = i
    following = n
    for i in range(n - 1, -1, -1):
        if words[i] in breaks:
            following = i
        end[i] = following
    return start, end


class ContextEngine:
    """One message's context cues, found once; then the status of each mention."""

    def __init__(
        self, context: Dict[str, Any], words: Sequence[str], table: Optional[CueTable] = None
    ) -> None:
        self.ctx = context
        self.words = words
        self.operations = len(words)
        self.clause_start, self.clause_end = _boundaries(words, CLAUSE_BREAKS)
        self.sent_start, self.sent_end = _boundaries(words, SENTENCE_END)
        self.cues = self._scan(table or CueTable(context))
        self.negation_at: Dict[int, int] = {}
        for s, e in self.cues["negation"].spans:
            self.negation_at[s] = min(e, self.negation_at.get(s, e))
        self._onset_wins()
        covered = [False] * len(words)  # inside a chronic, resolved or not-a-change phrase
        for key in ("chronic", "resolved", "not_change"):
            for s, e in self.cues[key].spans:
                # "fading now", "fine since": the word after the phrase belongs to it
                e += e < len(words) and words[e] in ("now", "since")
                covered[s:e] = [True] * (e - s)
        for key in ("onset", "change", "worse"):  # "nothing new", "fine since": not a change
            spans = [(s, e) for s, e in self.cues[key].spans if not any(covered[s:e])]
            self.cues[key] = Spans(spans, self)
        for key in ("onset", "change", "worse"):  # "it might get worse": foreseen, not told
            spans = [
                (s, e)
                for s, e in self.cues[key].spans
                if not self._hypothetical(self.clause_start[s], s, e)
            ]
            self.cues[key] = Spans(spans, self)
        self.list_status: Dict[int, str] = {}

    # -- finding the cues, once ----------------------------------------------------

    def _onset_wins(self) -> None:
        """A chronic or resolved phrase inside a longer onset phrase is not one:
        "not going away" is not "going away"."""
        inside = [False] * len(self.words)
        for s, e in self.cues["onset"].spans:
            if e - s > 1:
                inside[s:e] = [True] * (e - s)
        for key in ("chronic", "resolved"):
            kept = [(s, e) for s, e in self.cues[key].spans if not all(inside[s:e])]
            self.cues[key] = Spans(kept, self)

    def _scan(self, table: CueTable) -> Dict[str, Spans]:
        by_first = table.by_first
        words = self.words
        found: Dict[str, List[Tuple[int, int]]] = {key: [] for key in table.keys}
        found["year"] = []
        for i, word in enumerate(words):
            if YEAR.match(word):
                found["year"].append((i, i + 1))
            candidates = by_first.get(word, [])
            if NUMBER.match(word) or word in NUMBER_WORDS:
                candidates = candidates + by_first.get("#", [])
            for phrase, key in candidates:
                self.operations += len(phrase)
                if self._matches(phrase, i):
                    found[key].append((i, i + len(phrase)))
        cancelled = [False] * len(words)
        for s, e in found["pseudo"]:
            cancelled[s:e] = [True] * (e - s)
        # the classifier-alone path is gated on cues as written, pseudo or not
        self.raw_found = {key for key, spans in found.items() if spans}
        for key in _PSEUDO_CANCELS:
            found[key] = [(s, e) for s, e in found[key] if not any(cancelled[s:e])]
        return {key: Spans(spans, self) for key, spans in found.items()}

    def _matches(self, phrase: Tuple[str, ...], i: int) -> bool:
        words = self.words
        if i + len(phrase) > len(words):
            return False
        for p, w in zip(phrase, words[i : i + len(phrase)], strict=False):
            if p == "#":
                if not (NUMBER.match(w) or w in NUMBER_WORDS):
                    return False
            elif p != w:
                return False
        return True

    def found(self, key: str) -> bool:
        """The cue category's words occur anywhere in the message (pseudo-triggers
        included: "won't stop" still counts as a negation cue for the classifier)."""
        return key in self.raw_found

    def clause(self, i: int) -> Tuple[int, int]:
        return self.clause_start[i], self.clause_end[i]

    # -- the status of one mention ---------------------------------------------------

    def status(self, start: int, end: int) -> str:
        """What the mention words[start:end] is: a report, or why not."""
        listed = self._listed(start)
        status = listed or self._status(start, end)
        self.list_status[end] = status
        return status

    def _listed(self, start: int) -> Optional[str]:
        """A symptom listed after another ("watch for numbness, tingling or weakness")
        shares the context of the first one."""
        i = start - 1
        while i >= 0 and start - i <= 4 and self.words[i] in {",", "or", "and", "nor"}:
            self.operations += 1
            i -= 1
        if i == start - 1:
            return None
        return self.list_status.get(i + 1)

    def _status(self, start: int, end: int) -> str:
        cues = self.cues
        c_start = self.clause_start[start]
        c_end = max(self.clause_end[start], self.clause_end[end - 1])
        s_start, s_end = self.sent_start[start], self.sent_end[start]
        inside = (start, end)

        if self._negated(start, c_start):
            return "negated"
        asked = self._hypothetical(c_start, start, end) or cues["definition"].any(end, c_end)
        if asked and not self._told_it_started(s_end):
            return "hypothetical" if self._hypothetical(c_start, start, end) else "definition"
        onset = cues["onset"].any(c_start, c_end, inside)
        changed = onset or cues["change"].any(s_start, s_end, inside)
        if cues["background"]:  # a candidacy question: never a plain report
            return UNCERTAIN if changed else "background"
        not_now = self._not_now(end, c_start, c_end, s_start, s_end, inside, onset)
        if not_now == "other_person":
            return not_now
        if not_now:
            return UNCERTAIN if changed and not_now != "historical_over" else _plain(not_now)
        if self._is_question(c_start, c_end, start, end) and not self._told_it_started(s_end):
            return "question"
        return REPORT

    def _told_it_started(self, s_end: int) -> bool:
        """The next sentence says it is happening: "what causes chest tightness? it
        started an hour ago"."""
        first = s_end + 1
        if first >= len(self.words) or self.words[first] not in _FOLLOW_UP:
            return False
        return self.cues["present"].any(first, min(first + 5, self.sent_end[first]))

    def _hypothetical(self, c_start: int, start: int, end: int) -> bool:
        """A hypothetical cue before the mention or inside it ("my legs might be weak"),
        unless an onset cue comes between ("told to call if numb, and now i am")."""
        cue = self.cues["hypothetical"].last(c_start, end)
        if cue is None:
            return False
        return not self.cues["present"].any(cue[1], start)

    def _not_now(
        self,
        end: int,
        c_start: int,
        c_end: int,
        s_start: int,
        s_end: int,
        inside: Tuple[int, int],
        onset: bool,
    ) -> Optional[str]:
        """Historical, someone else's, resolved, chronic, or None."""
        cues = self.cues
        over = cues["resolved"].first(end, s_end)
        if over and not cues["onset"].any(over[1], s_end):
            # said to be over, and nothing after says it is back: "fine since"
            return "historical_over"
        past = cues["historical"].any(c_start, c_end, inside) or cues["year"].any(c_start, c_end)
        worse_after = self._worse_in_sentence(inside, s_start, s_end)
        if past and not onset and not worse_after:
            return "historical"
        if cues["other_person"].any(c_start, c_end, inside) or cues["other_person_sentence"].any(
            s_start, s_end, inside
        ):
            return "other_person"
        if onset or worse_after:
            return None
        if cues["chronic"].any(s_start, s_end, inside):
            return "chronic"
        return None

    def _worse_in_sentence(self, inside: Tuple[int, int], s_start: int, s_end: int) -> bool:
        """Elsewhere in the sentence it is said to be worse, back or different, not in a
        negation or a hypothetical: "numb before the procedure, but now it is worse",
        "back pain for years but this is different, it is 10/10"."""
        start, end = inside
        for cue in (self.cues["worse"].first(s_start, start), self.cues["worse"].first(end, s_end)):
            if cue is None:
                continue
            c_start = self.clause_start[cue[0]]
            if not self._negated(cue[0], c_start) and not self._hypothetical(
                c_start, cue[0], cue[1]
            ):
                return True
        return False

    def _negated(self, start: int, clause_start: int) -> bool:
        words = self.words
        lo = max(clause_start, start - self.ctx["negation"]["window"])
        for i in range(start - 1, lo - 1, -1):
            self.operations += 1
            if words[i] in NEGATION_STOPS:
                return False
            if words[i] == "," and not self._list_continues(i):
                return False
            if self.negation_at.get(i, start + 1) <= start:
                return True
        return False

    def _list_continues(self, comma: int) -> bool:
        """A comma inside a negated list ("no fever, chills or numbness")."""
        before = self.words[max(0, comma - 3) : comma]
        return "no" in before or "not" in before

    def _is_question(self, c_start: int, c_end: int, start: int, end: int) -> bool:
        """A question about the symptom in general, not about the patient's own body."""
        ctx, words = self.ctx, self.words
        if c_end - c_start < 2:
            return False
        if words[c_start] not in ctx["question_words"] or words[c_start + 1] == "not":
            return False
        asks = bool(set(words[c_start : min(c_end, c_start + 3)]) & set(ctx["auxiliaries"]))
        if not asks and "?" not in words[c_end : c_end + 1] and "?" not in words[-1:]:
            return False  # "where they put the needle in is swollen": not a question
        if self.cues["modal"].any(c_start, start):
            return True
        return not self._personal(c_start, start, end)

    def _personal(self, c_start: int, start: int, end: int) -> bool:
        """The symptom is the patient's own: "my foot is numb", "this tingling", "i have"."""
        words = self.words
        possessive = set(self.ctx["personal"]["possessive"])
        if possessive & set(words[max(c_start, start - 3) : end]):
            return True
        if start > 0 and words[start - 1] in {"this", "these", *self.ctx["pronouns"]}:
            return True
        return self.cues["experiencer"].any(c_start, start)
