"""Intent accuracy on patient messages written separately from the training data."""

from __future__ import annotations

import json
import re
from typing import Dict, List

import pytest
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.metrics import accuracy_score, f1_score

from bot.settings import PROJECT_ROOT
from tests.support.nlu import full_intent, parse_all

TEST_SET = PROJECT_ROOT / "tests" / "data" / "nlu_test.yml"
MIN_SCORE = 0.90


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def test_set_is_large_and_separate_from_training():
    test = load_data(str(TEST_SET)).intent_examples
    train = load_data(str(PROJECT_ROOT / "data" / "nlu")).intent_examples
    assert len(test) >= 150
    copied = {_norm(m.get("text")) for m in test} & {_norm(m.get("text")) for m in train}
    assert not copied, f"test messages copied from training data: {sorted(copied)[:10]}"


@pytest.mark.model
def test_intent_accuracy_and_macro_f1(agent, capsys):
    examples = load_data(str(TEST_SET)).intent_examples
    texts = [m.get("text") for m in examples]
    expected = [m.get_full_intent() for m in examples]
    predicted = [full_intent(p) for p in parse_all(agent, texts)]
    accuracy = accuracy_score(expected, predicted)
    # macro over the test set's own classes: a class no test message has (one of the newer
    # answers, say) has no support, so sklearn would count it as F1 0 for one stray
    # prediction; the stray prediction still costs its true class its recall
    macro_f1 = f1_score(
        expected, predicted, average="macro", labels=sorted(set(expected)), zero_division=0
    )
    misses: List[Dict[str, str]] = [
        {"text": t, "expected": e, "predicted": p}
        for t, e, p in zip(texts, expected, predicted, strict=False)
        if e != p
    ]
    out = PROJECT_ROOT / "results" / "nlu_test.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {"n": len(texts), "accuracy": accuracy, "macro_f1": macro_f1, "misses": misses},
            indent=2,
        )
    )
    with capsys.disabled():
        print(
            f"\nNLU test set: n={len(texts)} accuracy={accuracy:.3f} macro-F1={macro_f1:.3f} "
            f"misses={len(misses)} (details: {out.relative_to(PROJECT_ROOT)})"
        )
    assert accuracy >= MIN_SCORE, misses
    assert macro_f1 >= MIN_SCORE, misses
