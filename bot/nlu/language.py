"""Recognise messages written in a language other than English.

The assistant answers only in English, so a message in another language gets
a short reply (with the clinic's number and 911) instead of a wrong answer.
The test is deterministic: mostly non-Latin letters, or more common words of
another language than of English. Words that are also English ("no", "me",
"a", "son", "die", "pain") are left out of the foreign lists on purpose.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from spacy.lang.en.stop_words import STOP_WORDS

from bot.nlu.intents import put_first

OTHER_LANGUAGE_INTENT = "other_language"

FOREIGN_WORDS = frozenset(
    """
    el la los las del que en un una por para con mi mis es esta está estoy tengo
    dolor espalda puedo cuando cuándo cómo como qué hola gracias buenos buenas días
    después despues cuánto cuanto tiempo mamá madre padre necesito ayuda hablar
    médico medico cirugía
    le les des je est et une pour avec pas dans bonjour merci j'ai douleur dos
    après suis être
    não nao eu meu minha você voce obrigado obrigada olá dor costas posso depois
    ich und der das nicht ist mein meine habe schmerzen rücken kann nach guten danke
    wie lange dauert wann werde
    il di che non sono mio mia dolore schiena grazie ciao dopo
    tôi bị không có của và là đau lưng xin chào cảm ơn bác sĩ
    ako ang ng sa mga hindi po ko masakit likod salamat kumusta
    nie jest się mam ból pleców czy dzień dobry dziękuję
    """.split()
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def is_other_language(text: str) -> bool:
    """True when the text is most likely not English."""
    if "¿" in text or "¡" in text:
        return True
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    non_latin = sum(1 for c in letters if not unicodedata.name(c, "").startswith("LATIN"))
    if non_latin / len(letters) >= 0.5:
        return True
    words = [w.lower() for w in _WORD.findall(text)]
    foreign = sum(1 for w in words if w in FOREIGN_WORDS)
    english = sum(1 for w in words if w in STOP_WORDS)
    if foreign >= 2 and foreign > english:
        return True
    return foreign >= 1 and english == 0 and len(words) <= 3


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LanguageGuard(GraphComponent):
    """Sets the intent `other_language` for messages that are not in English."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageGuard:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not is_other_language(text):
                continue
            put_first(message, OTHER_LANGUAGE_INTENT)
        return messages
