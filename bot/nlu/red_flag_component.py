"""The red-flag detector as a Rasa NLU graph component: the last word on warning signs.

Two independent detectors, and either one firing escalates:
- the trained intent classifier predicting `report_symptom`;
- the deterministic lexicon (bot/nlu/red_flags.py), read in context.

The classifier is overruled only by positive evidence: when every symptom the
lexicon found in the message is negated, asked about, hypothetical, past,
chronic or someone else's. Where the lexicon found no symptom at all, the
classifier's "report" alone is asked about ("Are you having this now?") rather
than escalated when the message negates, looks back, speaks of someone else or
asks something, or names no word any symptom pattern uses: a classifier taught
real reports also learns their incidental words ("tap" from "spinal tap").

A report sets the intent `report_symptom` and the entities `red_flag_tier` and
`symptom`; a question about a warning sign sets `asked_tier` and `asked_symptom`,
so the assistant can ask "Are you having this now?".

The uncertain path: a symptom named beside a sign of change ("new", "since",
"worse", "started") that context cannot settle is not answered from the FAQ the
classifier chose: it gets the warning-signs advice and "Are you having this
now?" (the same `asked_tier` rules), and a yes escalates at that tier. The
past or chronic cue beside it is evidence enough to ask the classifier's
"report" too, rather than escalate.

A long message reaches the NLU cut to its first 2,000 characters; the channel scanned
all of it for warning signs in another process (`bot.long_messages`) and passes the
reports as the message's metadata (`red_flag_scan`), which count like the lexicon's own.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intents import put_first
from bot.nlu.red_flags import UNCERTAIN, Detection, detector, fever_threshold_f
from bot.settings import get_settings
from bot.text import RED_FLAG_SCAN
from bot.tiers import RED_FLAG_TIERS, more_urgent

REPORT_INTENT = "report_symptom"
FAQ_INTENT = "faq"
WARNING_SIGNS = "faq/warning_signs"
RESPONSE_SELECTOR = "response_selector"
FALLBACK_INTENT = "nlu_fallback"
UNSPECIFIED = "unspecified"
DEFAULT_TIER = "urgent"


def decide(
    detection: Detection,
    classifier_intent: Optional[str],
    classifier_confidence: float,
    min_confidence: float,
) -> Dict[str, Any]:
    """Combine the two detectors. Returns the red flag (tier, symptoms, sources) or the
    symptoms asked about; pure, so tests can drive it directly.

    Either detector firing escalates. The classifier is overruled by positive
    evidence only: symptoms the lexicon found but read as not reported, or, when
    the lexicon found no symptom at all, context cues in the message; then the
    patient is asked "Are you having this now?" instead."""
    classifier_fired = (
        classifier_intent == REPORT_INTENT and classifier_confidence >= min_confidence
    )
    if detection.reports:
        sources = ["lexicon"] + (["classifier"] if classifier_fired else [])
        return {"tier": detection.tier, "symptoms": detection.symptoms, "sources": sources}
    unsure = [f for f in detection.findings if f.status == UNCERTAIN]
    if classifier_fired and not detection.findings:
        if detection.cues or detection.asks or not detection.names_symptom_word:
            # the classifier alone, in a message that negates, looks back, speaks of
            # someone else or asks something ("should i call?"), or that names no body
            # part, feeling or symptom word at all ("[tap here](...) about ice"): ask the
            # patient directly instead of guessing
            return {"asked_tier": DEFAULT_TIER, "asked_symptoms": [UNSPECIFIED], "overruled": True}
        return {"tier": DEFAULT_TIER, "symptoms": [UNSPECIFIED], "sources": ["classifier"]}
    if detection.asked:
        return {
            "asked_tier": detection.asked_tier,
            "asked_symptoms": sorted({f.symptom for f in detection.asked}),
            "overruled": classifier_fired,
            "uncertain": bool(unsure),
        }
    return {"overruled": classifier_fired}


def with_whole_message(result: Dict[str, Any], scan: Any) -> Dict[str, Any]:
    """`decide`'s result with the reports the channel found in the whole of a long
    message (`red_flag_scan` metadata: tier and symptoms) added; pure."""
    if not isinstance(scan, dict) or scan.get("tier") not in RED_FLAG_TIERS:
        return result
    found = [s for s in scan.get("symptoms") or [] if isinstance(s, str)] or [UNSPECIFIED]
    if "tier" not in result:
        return {"tier": scan["tier"], "symptoms": sorted(found), "sources": ["lexicon"]}
    tier = more_urgent(result["tier"], scan["tier"])
    symptoms = sorted(set(result["symptoms"]) | set(found))
    return {**result, "tier": tier, "symptoms": symptoms}


def _classifier_top(message: Message) -> tuple:
    for ranked in message.get(INTENT_RANKING_KEY) or []:
        if ranked.get("name") != FALLBACK_INTENT:
            return ranked.get("name"), float(ranked.get("confidence") or 0.0)
    intent = message.get(INTENT) or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
    ],
    is_trainable=False,
)
class RedFlagDetector(GraphComponent, EntityExtractorMixin):
    """Recognises reports of warning signs; either detector firing makes it a report."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"classifier_min_confidence": 0.5}

    def __init__(self, config: Dict[str, Any]) -> None:
        self.min_confidence = float(config["classifier_min_confidence"])
        self.threshold_f = fever_threshold_f(get_settings().fever_threshold)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagDetector:
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            name, confidence = _classifier_top(message)
            result = decide(
                detector(self.threshold_f).detect(text), name, confidence, self.min_confidence
            )
            metadata = message.get("metadata")
            if isinstance(metadata, dict) and RED_FLAG_SCAN in metadata:
                result = with_whole_message(result, metadata[RED_FLAG_SCAN])
            if "tier" in result:
                self._mark_report(message, result)
                continue
            if (message.get(INTENT) or {}).get("name") == REPORT_INTENT:
                self._drop_report_intent(message)
            if "asked_tier" in result:
                self._answer_as_warning_signs(message, force=result.get("uncertain", False))
                self._add_entities(
                    message,
                    [
                        self._entity("asked_tier", result["asked_tier"], text),
                        *(self._entity("asked_symptom", s, text) for s in result["asked_symptoms"]),
                    ],
                )
        return messages

    def _mark_report(self, message: Message, result: Dict[str, Any]) -> None:
        text = message.get(TEXT) or ""
        put_first(message, REPORT_INTENT)
        self._add_entities(
            message,
            [
                self._entity("red_flag_tier", result["tier"], text),
                *(self._entity("symptom", s, text) for s in result["symptoms"]),
            ],
        )

    @staticmethod
    def _answer_as_warning_signs(message: Message, force: bool = False) -> None:
        """A question about a warning sign is answered from the FAQ: the warning-signs
        answer unless the classifier already chose an FAQ answer (an uncertain report
        always gets the warning-signs answer)."""
        if not force and (message.get(INTENT) or {}).get("name") == FAQ_INTENT:
            return
        message.set(INTENT, {"name": FAQ_INTENT, "confidence": 1.0}, add_to_output=True)
        selector = dict(message.get(RESPONSE_SELECTOR) or {})
        selector[FAQ_INTENT] = {
            "response": {
                "responses": [],
                "confidence": 1.0,
                "intent_response_key": WARNING_SIGNS,
                "utter_action": f"utter_{WARNING_SIGNS}",
                "template_name": f"utter_{WARNING_SIGNS}",
            },
            "ranking": [],
        }
        message.set(RESPONSE_SELECTOR, selector, add_to_output=True)

    @staticmethod
    def _drop_report_intent(message: Message) -> None:
        """The classifier said report, the lexicon proved otherwise: take the next intent."""
        ranking = [
            r
            for r in message.get(INTENT_RANKING_KEY) or []
            if r.get("name") not in (REPORT_INTENT, FALLBACK_INTENT)
        ]
        if ranking:
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    def _entity(self, entity: str, value: str, text: str) -> Dict[str, Any]:
        return {
            "entity": entity,
            "value": value,
            "start": 0,
            "end": len(text),
            "confidence_entity": 1.0,
        }

    def _add_entities(self, message: Message, entities: List[Dict[str, Any]]) -> None:
        keep = [e for e in message.get(ENTITIES) or [] if e.get("extractor") != self.name]
        message.set(ENTITIES, keep + self.add_extractor_name(entities), add_to_output=True)
