"""The rule-based red-flag detector alone over the real-wording corpus (tests/data/real/).

python -m bench.red_flag_corpus [--split train|locked|all ...] [--failures]

Without --split it reads the train split only: the locked split's figures are asked for
by name, to report before and after a change, not to watch while tuning.

Per split: recall (reports whose detected tier is at or above the label's), false alarms
(look-alikes and plain questions, flag `none`, that got a tier), and how many messages went
down the uncertain path ("Are you having this now?"). No Rasa, no model: only
`bot.nlu.red_flags.detector`.

`--failures` lists the misses, alarms and uncertain cases of the TRAIN split only: the
locked split is read to measure, never to look for ideas, so its texts are never printed.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from bench.common import table
from bench.corpus import Message, load_messages
from bot.nlu.red_flags import Detection, detector

RANK = {"emergency": 0, "urgent": 1}


def _rank(tier: Optional[str]) -> int:
    return RANK.get(tier or "", 9)


@dataclass
class Result:
    """One split's figures and the rows behind them."""

    split: str
    reports: int = 0
    lookalikes: int = 0
    questions: int = 0
    misses: List[Tuple[Message, Detection]] = field(default_factory=list)
    lookalike_alarms: List[Tuple[Message, Detection]] = field(default_factory=list)
    question_alarms: List[Tuple[Message, Detection]] = field(default_factory=list)
    uncertain: List[Tuple[Message, Detection]] = field(default_factory=list)

    @property
    def caught(self) -> int:
        return self.reports - len(self.misses)

    def uncertain_of(self, flag: str) -> int:
        return sum(m.flag == flag for m, _ in self.uncertain)


def evaluate(split: str) -> Result:
    find = detector()
    result = Result(split)
    for message in load_messages(split):
        found = find.detect(message.text)
        if found.uncertain and not found.tier:
            result.uncertain.append((message, found))
        if message.flag == "report":
            result.reports += 1
            if _rank(found.tier) > _rank(message.tier or "urgent"):
                result.misses.append((message, found))
        elif message.flag == "lookalike":
            result.lookalikes += 1
            if found.tier:
                result.lookalike_alarms.append((message, found))
        else:
            result.questions += 1
            if found.tier:
                result.question_alarms.append((message, found))
    return result


def _pct(a: int, b: int) -> str:
    return f"{a}/{b} ({a / b:.1%})" if b else "-"


def summary(result: Result) -> List[object]:
    return [
        result.split,
        _pct(result.caught, result.reports),
        _pct(len(result.lookalike_alarms), result.lookalikes),
        _pct(len(result.question_alarms), result.questions),
        result.uncertain_of("report"),
        result.uncertain_of("lookalike"),
        result.uncertain_of("none"),
    ]


HEADER = [
    "split", "recall", "look-alike alarms", "question alarms",
    "uncertain (reports)", "uncertain (look-alikes)", "uncertain (questions)",
]  # fmt: skip


def failures(result: Result) -> str:
    def statuses(found: Detection) -> str:
        return ", ".join(sorted({f"{f.symptom}:{f.status}" for f in found.findings})) or "-"

    lines = []
    for message, found in result.misses:
        lines.append(
            f"MISS  {message.id} {message.tier}/{message.symptom} -> {found.tier} "
            f"[{statuses(found)}]: {message.text!r}"
        )
    for message, found in result.lookalike_alarms + result.question_alarms:
        lines.append(
            f"ALARM {message.id} {message.flag} -> {found.tier} {found.symptoms}: {message.text!r}"
        )
    for message, found in result.uncertain:
        lines.append(f"ASK   {message.id} {message.flag} [{statuses(found)}]: {message.text!r}")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--split", action="append", choices=["train", "locked", "all"], help="default: train"
    )
    parser.add_argument("--failures", action="store_true", help="list the train split's failures")
    args = parser.parse_args(argv)
    splits = args.split or ["train"]
    results = [evaluate(split) for split in splits]
    print(table(HEADER, [summary(r) for r in results]))
    if args.failures:
        for result in results:
            if result.split == "train":
                print(f"\n== {result.split}\n{failures(result)}")


if __name__ == "__main__":
    main()
