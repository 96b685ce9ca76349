"""Red-flag detector throughput on its own (the rule-based component, no Rasa).

python -m bench.red_flags [--seconds 10]
"""

from __future__ import annotations

import argparse
import time

import yaml

from bench.common import table
from bot.nlu.red_flags import detector
from bot.settings import PROJECT_ROOT


def throughput(seconds: float) -> dict:
    """Messages per second of the detector over the red-flag test set, repeated."""
    data = yaml.safe_load((PROJECT_ROOT / "tests" / "data" / "red_flags.yml").read_text())
    texts = [c["text"] for c in data["reports"] + data["lookalikes"]]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    row = throughput(args.seconds)
    print(table(list(row), [list(row.values())]))


if __name__ == "__main__":
    main()
