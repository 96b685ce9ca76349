"""The red-flag detector on its own (the rule-based component, no Rasa, no model):
throughput, time by message length, and recall / false alarms on the test sets.

python -m bench.red_flags [--seconds 10] [--corpus DIR] [--half train|locked|both] [--list]

The real-wording corpus (redflags.tsv, questions.tsv; format in its SPEC.md) is split by
source page: a row is LOCKED when the first hex digit of sha256(source_url) is 0-7, else
TRAIN. Tune on TRAIN only; run LOCKED to measure, not to look for ideas.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bench.common import table
from bot.nlu.red_flags import detector
from bot.settings import PROJECT_ROOT

RANK = {"emergency": 0, "urgent": 1, None: 9}
LENGTHS = (250, 2_000, 20_000, 100_000)
CORPUS_FILES = ("redflags.tsv", "questions.tsv")


def throughput(seconds: float) -> dict:
    """Messages per second of the detector over the red-flag test set, repeated."""
    texts = [c["text"] for c in own_cases()]
    find = detector()
    find.detect("warm up")
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for text in texts:
            find.detect(text)
        done += len(texts)
    elapsed = time.perf_counter() - start
    chars = sum(len(t) for t in texts) / len(texts)
    return {
        "messages": done,
        "seconds": round(elapsed, 1),
        "messages/s": round(done / elapsed),
        "mean ms": round(1000 * elapsed / done, 2),
        "mean length (chars)": round(chars),
    }


def by_length() -> List[List[object]]:
    """ms per message of `length` characters: the same word repeated (every word a
    mention), and a report hidden at the end of a long story."""
    find = detector()
    story = "we went to the store and then we had lunch with my sister. "
    rows = []
    for length in LENGTHS:
        texts = {
            "numb x N": ("numb " * (length // 5 + 1))[:length],
            "fever x N": ("fever " * (length // 6 + 1))[:length],
            "story + report at end": (story * (length // len(story) + 1))[: length - 30]
            + " now my legs are numb",
        }
        row: List[object] = [length]
        for text in texts.values():
            best = min(_timed(find.detect, text) for _ in range(3))
            row.append(round(best * 1000, 1))
        row.append(find.detect(texts["story + report at end"]).tier or "-")
        rows.append(row)
    return rows


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def own_cases() -> List[Dict]:
    data = yaml.safe_load((PROJECT_ROOT / "tests" / "data" / "red_flags.yml").read_text())
    return [{**c, "flag": "report"} for c in data["reports"]] + [
        {**c, "flag": "lookalike"} for c in data["lookalikes"]
    ]


def half_of(url: str) -> str:
    """LOCKED or TRAIN, by source page."""
    digit = hashlib.sha256(url.strip().encode()).hexdigest()[0]
    return "locked" if digit in "01234567" else "train"


def corpus_rows(directory: Path, half: str) -> List[Dict]:
    rows = []
    for name in CORPUS_FILES:
        path = directory / name
        if not path.exists():
            continue
        with path.open(newline="") as f:
            for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                if half in ("both", half_of(row["source_url"])):
                    rows.append({**row, "tier": row.get("tier") or None})
    return rows


def evaluate(rows: List[Dict]) -> Dict[str, Any]:
    """Recall (reports caught at their tier or higher), false alarms (look-alikes and
    other messages escalated), and how many were asked "Are you having this now?"."""
    find = detector()
    misses: List[Any] = []
    alarms: List[Any] = []
    other_alarms: List[Any] = []
    asked_others: List[Any] = []
    asked_reports = 0
    reports = [r for r in rows if r["flag"] == "report"]
    lookalikes = [r for r in rows if r["flag"] == "lookalike"]
    others = [r for r in rows if r["flag"] not in ("report", "lookalike")]
    for row in rows:
        found = find.detect(row["text"])
        tier: Optional[str] = found.tier
        if row["flag"] == "report":
            if RANK[tier] > RANK[row["tier"]]:
                misses.append((row, tier, found))
                asked_reports += bool(found.uncertain)
        elif tier:
            (alarms if row["flag"] == "lookalike" else other_alarms).append((row, tier, found))
        elif found.uncertain:
            asked_others.append((row, found))
    return {
        "reports": len(reports),
        "caught": len(reports) - len(misses),
        "misses": misses,
        "misses asked": asked_reports,
        "lookalikes": len(lookalikes),
        "alarms": alarms,
        "others": len(others),
        "other alarms": other_alarms,
        "uncertain asked": asked_others,
    }


def _pct(a: int, b: int) -> str:
    return f"{a}/{b} ({a / b:.1%})" if b else "-"


def summary(name: str, result: Dict[str, Any]) -> List[object]:
    return [
        name,
        _pct(result["caught"], result["reports"]),
        _pct(len(result["alarms"]), result["lookalikes"]),
        _pct(len(result["other alarms"]), result["others"]),
        len(result["uncertain asked"]),
        result["misses asked"],
    ]


def listing(result: Dict[str, Any]) -> str:
    lines = []
    for row, tier, found in result["misses"]:
        statuses = sorted({(f.symptom, f.status) for f in found.findings})
        lines.append(
            f"MISS  {row.get('id', '')} {row['tier']}/{row.get('symptom')} -> {tier}: "
            f"{row['text']!r} {statuses}"
        )
    for row, tier, found in result["alarms"] + result["other alarms"]:
        lines.append(
            f"ALARM {row.get('id', '')} {row['flag']} -> {tier} {found.symptoms}: {row['text']!r}"
        )
    for row, _found in result["uncertain asked"]:
        lines.append(f"ASK   {row.get('id', '')} {row['flag']}: {row['text']!r}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--corpus", type=Path, default=Path("/work/corpus"))
    parser.add_argument("--half", default="train", choices=["train", "locked", "both"])
    parser.add_argument("--list", action="store_true", help="list every miss and alarm")
    args = parser.parse_args()
    row = throughput(args.seconds)
    print(table(list(row), [list(row.values())]))
    print()
    print(table(["chars", "numb x N ms", "fever x N ms", "story ms", "story tier"], by_length()))
    print()
    keys = ["set", "recall", "look-alike alarms", "other alarms", "asked (not reports)",
            "asked (missed reports)"]  # fmt: skip
    results = {"own red_flags.yml": evaluate(own_cases())}
    rows = corpus_rows(args.corpus, args.half)
    if rows:
        results[f"real corpus, {args.half}"] = evaluate(rows)
    print(table(keys, [summary(name, r) for name, r in results.items()]))
    if args.list:
        for name, result in results.items():
            print(f"\n== {name}\n{listing(result)}")


if __name__ == "__main__":
    main()
