"""Recognise the short, topic-free questions people ask right after warning-sign advice.

"What should I do?", "can it wait till morning?", "is it serious?", "should I drive myself
there?": after urgent or emergency advice each must get that advice again
(data/rules/after_advice.yml), never an FAQ answer. The classifier alone gets them wrong
often enough to matter: "what should i do" came out as how to prepare for the procedure at
0.80, because "what should I do before ..." is a preparation question. So a message that is
one of these questions and nothing else (the whole message, once fillers such as "ok",
"so", "please" and "now" are taken off) is given the intent `ask_after_advice`, whatever the
classifier said. With no advice given, that intent asks what is happening
(`utter_after_advice_none`). Anything longer, or naming a topic ("what should I do before
the procedure?"), is left to the classifier. Warning signs are judged after this component,
so a report is never hidden by it.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intents import put_first

INTENT_NAME = "ask_after_advice"

_FILLER = (
    r"(?:ok(?:ay)?|so|um+|uh+|well|then|and|but|please|pls|plz|now|right now|really|"
    r"just|exactly|hi|hello|thanks|thank you|nurse|doctor|hey|sorry|oh|omg|ugh|i mean)"
)
_WHO = r"(?:i|we|he|she|they|my (?:mom|mum|dad|husband|wife|mother|father))"
_IT = r"(?:it|this|that|all this|all that)"
_LATER = (
    r"(?:(?:the )?morning|tomorrow|tonight|later|monday|the weekend|after the weekend|"
    r"my (?:follow ?up|appointment)|the office opens|(?:the )?office hours|you open|"
    r"(?:the )?nurse calls?|you call|they call|"
    r"(?:the )?(?:nurse|doctor|clinic|care team|you|them|someone) to call(?: (?:me|us|back))*)"
)
_GO = r"(?:the )?(?:er|e r|a&e|a and e|emergency(?: room)?|hospital|urgent care)"
_PERSON = r"(?:my (?:\w+ )?\w+|someone|somebody|a friend|a neighbou?r|he|she|they)"
_ME = r"(?:me|us|him|her|them|mom|mum|dad)"

# each one is the whole message
_QUESTIONS = [
    rf"what (?:do|should|can|must|would) {_WHO} do(?: now| next| then| about {_IT})?",
    r"what (?:now|next|do i do|should i do)",
    r"now what",
    r"what (?:am i|are we|is (?:he|she)) (?:supposed|meant|to) (?:to )?do",
    r"what should happen now",
    r"tell me what to do",
    r"what (?:are|is) the next steps?",
    rf"(?:can|could|should|do|must) {_WHO} (?:just )?wait(?: (?:and see|it out))?"
    rf"(?: (?:till|until|for|to) {_LATER})?",
    rf"(?:can|could|will) {_IT} wait(?: (?:till|until|for) {_LATER})?",
    rf"(?:is|does) {_IT} (?:have to be|need to be|got to be) (?:now|tonight|today)",
    rf"do {_WHO} (?:really )?(?:have|need) to (?:call|go)(?: (?:now|tonight|today|in))*",
    rf"(?:should|do|must) {_WHO} (?:call|phone|ring)(?: (?:you|them|911|the clinic|now))*",
    rf"(?:should|do|must) {_WHO} (?:go|need to go|have to go) (?:in|to {_GO})",
    rf"(?:is|does) {_IT} (?:serious|bad|dangerous|urgent|an emergency|life threatening)",
    rf"how (?:serious|bad|urgent|dangerous) is {_IT}",
    r"(?:is|am) (?:he|she|i) (?:going to be|gonna be) (?:ok|okay|alright|all right|fine)",
    rf"(?:can|should|could) {_WHO} drive (?:myself|ourselves|him|her|them)"
    rf"(?: (?:there|in|to {_GO}))?",
    rf"(?:can|should|could) (?:my \w+|someone|somebody) drive (?:me|him|her)"
    rf"(?: (?:there|in|to {_GO}))?",
    # what the patient is doing about it: "my wife is driving me now", "ok my daughter is
    # coming to get me" (the issue's own example): the advice again, not small talk
    rf"{_PERSON}(?: is| are|'s|'re)? (?:driving|taking|bringing|running) {_ME}"
    rf"(?: (?:in|there|now|over|to {_GO}))*",
    rf"{_PERSON}(?: is| are|'s|'re)? (?:coming|on (?:her|his|their) way) to "
    rf"(?:get|pick up|take|drive) {_ME}(?: up| in| there)*",
    rf"(?:i am|i'm|im|we are|we're|were) (?:going|heading|on (?:my|our) way)"
    rf"(?: (?:in|there|now|to {_GO}))*",
    rf"what (?:do|should|will) {_WHO} (?:tell|say to) (?:them|the (?:doctor|nurse|er|911))"
    rf"(?: when (?:i|we|he|she) get there)?",
]
_WHOLE = re.compile(
    rf"^(?:{_FILLER} )*(?:{'|'.join(f'(?:{q})' for q in _QUESTIONS)})(?: {_FILLER})*$"
)
_NOT_A_WORD = re.compile(r"[^a-z0-9&' ]+")


def is_after_advice_question(text: str) -> bool:
    """Whether the whole message is one of the after-advice questions; pure."""
    plain = " ".join(_NOT_A_WORD.sub(" ", text.lower().replace("\u2019", "'")).split())
    plain = re.sub(r"\bwhat's\b", "what is", plain)
    return bool(plain) and len(plain) <= 80 and bool(_WHOLE.match(plain))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AfterAdviceQuestion(GraphComponent):
    """Sets `ask_after_advice` on a message that is only an after-advice question."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> AfterAdviceQuestion:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if not is_after_advice_question(message.get(TEXT) or ""):
                continue
            put_first(message, INTENT_NAME)
        return messages
