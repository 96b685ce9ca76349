"""The red-flag test set through the whole trained NLU pipeline: both detectors together."""

from __future__ import annotations

import pytest
import yaml

from bot.settings import PROJECT_ROOT
from bot.tiers import rank
from tests.support.nlu import parse_all

TEST_SET = PROJECT_ROOT / "tests" / "data" / "red_flags.yml"

pytestmark = pytest.mark.model


def tier_of(parse: dict):
    if (parse.get("intent") or {}).get("name") != "report_symptom":
        return None
    return next((e["value"] for e in parse["entities"] if e["entity"] == "red_flag_tier"), None)


def test_pipeline_escalates_every_report_and_few_lookalikes(agent, capsys):
    data = yaml.safe_load(TEST_SET.read_text())
    reports = data["reports"]
    lookalikes = data["lookalikes"]
    got = parse_all(agent, [c["text"] for c in reports + lookalikes])
    missed = [
        f"{c['tier']}: {c['text']!r} -> {tier_of(p)}"
        for c, p in zip(reports, got[: len(reports)], strict=False)
        if rank(tier_of(p)) > rank(c["tier"])
    ]
    alarms = [
        c["text"] for c, p in zip(lookalikes, got[len(reports) :], strict=False) if tier_of(p)
    ]
    by_classifier_only = sum(
        1
        for p in got
        if tier_of(p)
        and any(e["entity"] == "symptom" and e["value"] == "unspecified" for e in p["entities"])
    )
    with capsys.disabled():
        print(
            f"\nred-flag pipeline: recall {len(reports) - len(missed)}/{len(reports)}, "
            f"false alarms {len(alarms)}/{len(lookalikes)} ({len(alarms) / len(lookalikes):.1%}), "
            f"escalated by the classifier alone: {by_classifier_only}; alarms: {alarms}"
        )
    assert not missed, "\n".join(missed)
    assert len(alarms) / len(lookalikes) <= 0.05
