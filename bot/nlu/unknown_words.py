"""Recognise messages made mostly of words the assistant was never taught.

The intent classifier is often sure of itself on nonsense ("purple monkey
dishwasher" came out as a question about anesthesia at 0.99). When most words of
a message never occur in the training data, the message is taken as not
understood (`nlu_fallback`), and the assistant offers its main topics instead of
a confident wrong answer. The vocabulary is learned at training time and kept
in the model. Warning signs are judged after this, so they are never hidden.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Set

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.intents import put_first

FALLBACK_INTENT = "nlu_fallback"
_WORD = re.compile(r"[a-z]+")


def words(text: str) -> List[str]:
    return _WORD.findall(text.lower())


def unknown_share(text: str, vocabulary: Set[str]) -> float:
    """The share of a message's words that are not in the vocabulary."""
    found = words(text)
    if not found:
        return 0.0
    return sum(1 for w in found if w not in vocabulary) / len(found)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnknownWordsGuard(GraphComponent):
    """Sets `nlu_fallback` when most of a message's words were never seen in training."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"max_unknown_share": 0.6, "min_words": 2}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Optional[Set[str]] = None,
    ) -> None:
        self.config = config
        self.model_storage = model_storage
        self.resource = resource
        self.vocabulary = vocabulary or set()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UnknownWordsGuard:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        for example in training_data.training_examples:
            self.vocabulary.update(words(example.get(TEXT) or ""))
        with self.model_storage.write_to(self.resource) as directory:
            (directory / "vocabulary.json").write_text(json.dumps(sorted(self.vocabulary)))
        return self.resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> UnknownWordsGuard:
        with model_storage.read_from(resource) as directory:
            vocabulary = set(json.loads((directory / "vocabulary.json").read_text()))
        return cls(config, model_storage, resource, vocabulary)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if len(words(text)) < self.config["min_words"]:
                continue
            share = unknown_share(text, self.vocabulary)
            if share < self.config["max_unknown_share"]:
                continue
            put_first(message, FALLBACK_INTENT, round(1.0 - share, 3))
        return messages
