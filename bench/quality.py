"""NLU quality on the separately written test sets, ours and stock side by side:
intent accuracy and macro-F1, red-flag recall and false-alarm rate.

    python -m bench.quality [--models ours,stock]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path
from typing import Dict, List

import yaml
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.metrics import accuracy_score, f1_score

from bench.common import OURS_MODEL, STOCK_MODEL, table
from bot.settings import PROJECT_ROOT
from bot.tiers import rank

NLU_TEST = PROJECT_ROOT / "tests" / "data" / "nlu_test.yml"
RED_FLAGS = PROJECT_ROOT / "tests" / "data" / "red_flags.yml"


def full_intent(parse: Dict) -> str:
    name = (parse.get("intent") or {}).get("name") or ""
    selected = (parse.get("response_selector") or {}).get(name) or (
        parse.get("response_selector") or {}
    ).get("default")
    if selected and selected["response"].get("intent_response_key"):
        return selected["response"]["intent_response_key"]
    return name


def escalated(parse: Dict) -> bool:
    return (parse.get("intent") or {}).get("name") == "report_symptom"


def tier(parse: Dict) -> str:
    found = [e["value"] for e in parse.get("entities") or [] if e["entity"] == "red_flag_tier"]
    return found[0] if found else "urgent"  # the stock pipeline has no tiers: count it as urgent


def evaluate(model: Path) -> Dict[str, object]:
    from rasa.core.agent import load_agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    agent = asyncio.run(load_agent(model_path=str(model)))
    examples = load_data(str(NLU_TEST)).intent_examples
    flags = yaml.safe_load(RED_FLAGS.read_text())
    texts = [m.get("text") for m in examples]
    reports = flags["reports"]
    lookalikes = flags["lookalikes"]

    async def parse_all(items: List[str]) -> List[Dict]:
        return [await agent.parse_message(t) for t in items]

    parsed = asyncio.run(
        parse_all(texts + [r["text"] for r in reports] + [r["text"] for r in lookalikes])
    )
    nlu = parsed[: len(texts)]
    rep = parsed[len(texts) : len(texts) + len(reports)]
    look = parsed[len(texts) + len(reports) :]
    gold = [m.get_full_intent() for m in examples]
    predicted = [full_intent(p) for p in nlu]
    caught = sum(
        1
        for r, p in zip(reports, rep, strict=False)
        if escalated(p) and rank(tier(p)) <= rank(r["tier"])
    )
    alarms = sum(1 for p in look if escalated(p))
    return {
        "intent accuracy": round(accuracy_score(gold, predicted), 3),
        "intent macro-F1": round(f1_score(gold, predicted, average="macro", zero_division=0), 3),
        "red-flag recall": f"{caught}/{len(reports)} ({caught / len(reports):.1%})",
        "false alarms": f"{alarms}/{len(lookalikes)} ({alarms / len(lookalikes):.1%})",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="ours,stock")
    args = parser.parse_args()
    models = {"ours": OURS_MODEL, "stock": STOCK_MODEL}
    rows = []
    for name in args.models.split(","):
        if models[name].exists():
            rows.append({"model": name, **evaluate(models[name])})
    keys = ["model", "intent accuracy", "intent macro-F1", "red-flag recall", "false alarms"]
    print(table(keys, [[r[k] for k in keys] for r in rows]))


if __name__ == "__main__":
    main()
