"""Long stories read on their question: the classifiers see the question, not the story.

A caregiver writes four sentences about a parent's fall, the X-ray and the doctor's
advice, then asks one thing ("If he waits too long, will it be too late?"). A bag of
words over the whole message answers the story (who is a candidate, what a compression
fracture is) rather than the question. So, for the intent classifier and the response
selectors only, a long message of several sentences is cut down to its question:

- the last sentence that asks something (ends with "?" or opens with a question word),
  and the one before it when they run together ("Is that normal? And can she ...?");
- plus, when the question names no procedure ("will it be too late?"), the last earlier
  sentence that does ("His doctor suggested a kyphoplasty"), so "it" keeps its subject;
- but never when the sentences left out name a warning-sign symptom (the lexicon of
  bot/nlu/red_flags.py finds one in them, in any context): then the classifier, one of the
  two red-flag detectors, must read the whole message, as before.

Everything else reads the whole message: `QuestionFocusRestore`, placed after the
classifiers, puts the full text back before the language and unknown-word guards and the
red-flag detector, so a warning sign anywhere in the story is still found, and the
conversation keeps the patient's own words. Training examples go through the same cut,
so a long example teaches what a long message will look like.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

FULL_TEXT = "full_text"  # the message as written, while the classifiers read the question
FOCUS_SPANS = "focus_spans"  # where in it the sentences they read are
MIN_WORDS = 22  # shorter messages are read whole: a short story is context, not noise

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")
_QUESTION_OPENERS = frozenset(
    """what whats what's when how hows how's why where who which whom whose is are am was
    were do does did can could should would will wont won't shall may might has have had
    isnt isn't arent aren't doesnt doesn't dont don't cant can't shouldnt shouldn't
    any anything""".split()
)
_PROCEDURE = re.compile(
    r"\b(vertebro\w*|kypho\w*|cement\w*|balloon\w*|procedure|operation|surgery|injection)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z']+")


def sentence_spans(text: str) -> List[Tuple[int, int]]:
    """Where the message's sentences are, each with its end mark, blanks stripped."""
    spans = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def asks(sentence: str) -> bool:
    """Whether a sentence asks something."""
    if sentence.rstrip().endswith("?"):
        return True
    words = _WORD.findall(sentence.lower())
    return bool(words) and words[0] in _QUESTION_OPENERS


def _names_symptom(sentences_: List[str]) -> bool:
    from bot.nlu.red_flags import detector  # the lexicon loads once, on first use

    found = detector().detect(" ".join(sentences_)).findings
    return any(f.status != "unrelated" for f in found)


def focus_spans(text: str) -> Optional[List[Tuple[int, int]]]:
    """Where in a long message of several sentences its question is (the sentences kept,
    in order), or None to read it whole."""
    if len(text.split()) < MIN_WORDS:
        return None
    spans = sentence_spans(text)
    if len(spans) < 2:
        return None
    parts = [text[a:b] for a, b in spans]
    last = max((i for i, s in enumerate(parts) if asks(s)), default=None)
    if last is None or last == 0:
        return None
    start = last - 1 if asks(parts[last - 1]) else last
    picked = list(range(start, last + 1))
    if not any(_PROCEDURE.search(parts[i]) for i in picked):
        named = [i for i in range(start) if _PROCEDURE.search(parts[i])]
        if named:
            picked = [named[-1]] + picked
    left_out = [parts[i] for i in range(len(parts)) if i not in picked]
    if not left_out or _names_symptom(left_out):
        return None
    return [spans[i] for i in picked]


def joined(text: str, spans: List[Tuple[int, int]]) -> str:
    """The kept sentences as the classifiers read them: joined by one space."""
    return " ".join(text[a:b] for a, b in spans)


def focus(text: str) -> Optional[str]:
    """The question of a long message of several sentences, or None to read it whole."""
    spans = focus_spans(text)
    return joined(text, spans) if spans else None


def _to_full(spans: List[Tuple[int, int]], offset: int, end: bool) -> Optional[int]:
    """An offset in the cut text (the kept sentences joined by one space) as an offset in
    the full text; None for the joining spaces, which the full text does not have."""
    at = 0
    for a, b in spans:
        length = b - a
        if at <= offset < at + length or (end and offset == at + length):
            return a + offset - at
        at += length + 1
    return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class QuestionFocus(GraphComponent):
    """First in the pipeline: the classifiers read a long story's question only."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> QuestionFocus:
        return cls()

    def _cut(self, message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or message.get(FULL_TEXT):
            return
        spans = focus_spans(text)
        if spans:
            message.set(FULL_TEXT, text)
            message.set(FOCUS_SPANS, spans)
            message.set(TEXT, joined(text, spans))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._cut(example)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._cut(message)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class QuestionFocusRestore(GraphComponent):
    """After the classifiers: the full message again, for the guards and the detector."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> QuestionFocusRestore:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Left cut in training: the classifiers' training nodes read these same example
        # objects and the graph does not order them before this node, so restoring in
        # place here could change what they train on. The unknown-words guard after it
        # learns its vocabulary from the questions, which is what the classifiers know.
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            _restore(message)
        return messages


def _restore(message: Message) -> None:
    """The full text back, and the entities found in the cut text moved to where they are
    in it (an entity across two kept sentences, which the full text does not join, is
    dropped)."""
    full = message.get(FULL_TEXT)
    if not full:
        return
    spans = message.get(FOCUS_SPANS) or []
    kept = []
    for entity in message.get(ENTITIES) or []:
        if "start" not in entity or "end" not in entity:
            kept.append(entity)
            continue
        start = _to_full(spans, int(entity["start"]), end=False)
        end = _to_full(spans, int(entity["end"]), end=True)
        if start is None or end is None or end - start != entity["end"] - entity["start"]:
            continue
        kept.append({**entity, "start": start, "end": end})
    if message.get(ENTITIES):
        message.set(ENTITIES, kept)
    message.set(TEXT, full)
    message.data.pop(FULL_TEXT, None)
    message.data.pop(FOCUS_SPANS, None)
