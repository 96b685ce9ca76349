"""Every benchmark, ours against the stock `rasa init` setup, in one table.

    python -m bench.run_all          (make bench)

Trains the stock pipeline on our data first if models/stock.tar.gz is missing.
Loopback only; every load is bounded in count and time.
"""

from __future__ import annotations

import platform
import subprocess
from datetime import date
from typing import Dict, List

from bench import latency, quality, red_flags, training
from bench.common import OURS_MODEL, STOCK_CONFIG, STOCK_MODEL, table, train_stock


def machine() -> str:
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split()
    total = mem[mem.index("Mem:") + 1] if "Mem:" in mem else "?"
    return f"{platform.machine()}, {cpu} cores, {total} GiB RAM, Python {platform.python_version()}"


def main() -> None:
    train_stock()
    trained = {
        "ours": training.train_seconds("config.yml"),
        "stock": training.train_seconds(str(STOCK_CONFIG)),
    }
    lat: Dict[str, Dict] = {}
    mem: Dict[str, Dict] = {}
    qual: Dict[str, Dict] = {}
    for name, model in (("ours", OURS_MODEL), ("stock", STOCK_MODEL)):
        measured, memory = latency.measure(name, model, [1, 10, 50], 3)
        lat[name] = {(r["pacing"], r["concurrency"]): r for r in measured}
        mem[name] = memory
        qual[name] = quality.evaluate(model)
    flags = red_flags.throughput(10)

    def both(pick) -> List[object]:
        return [pick("ours"), pick("stock")]

    rows: List[List[object]] = []

    def spread(row: Dict) -> str:
        return f"{row['p50 ms']} / {row['p95 ms']} / {row['p99 ms']}"

    def errors(row: Dict) -> str:
        return f"{row['errors']} of {row['messages']}"

    for pacing in latency.PACINGS:
        for level in (1, 10, 50):
            key = (pacing, level)
            rows.append(
                [
                    f"p50 / p95 / p99 ms, {level} {pacing}",
                    *both(lambda m, k=key: spread(lat[m][k])),
                    "p95 <= 100 at 10" if level == 10 else "",
                ]
            )
            rows.append(
                [f"messages/s, {level} {pacing}", *both(lambda m, k=key: lat[m][k]["msg/s"]), ""]
            )
            rows.append(
                [
                    f"errors, {level} {pacing}",
                    *both(lambda m, k=key: errors(lat[m][k])),
                    "0 at 50" if level == 50 else "",
                ]
            )
    rows += [
        ["intent accuracy (held-out, 346)", *both(lambda m: qual[m]["intent accuracy"]), ""],
        ["intent macro-F1", *both(lambda m: qual[m]["intent macro-F1"]), ">= 0.90, above stock"],
        ["red-flag recall", *both(lambda m: qual[m]["red-flag recall"]), "100%"],
        ["red-flag false alarms", *both(lambda m: qual[m]["false alarms"]), "<= 5%"],
        ["Rasa server RSS MB (warm)", *both(lambda m: mem[m]["Rasa server RSS MB"]), "<= 1536"],
        ["action server RSS MB", *both(lambda m: mem[m]["action server RSS MB"]), ""],
        ["start-up to first answer s", *both(lambda m: mem[m]["start-up to first answer s"]), ""],
        ["training from scratch s", round(trained["ours"]), round(trained["stock"]), "< 600"],
        ["red-flag detector messages/s", flags["messages/s"], "-", ""],
    ]
    low, high = latency.THINK_SECONDS
    print(f"Benchmarks, {date.today().isoformat()}, {machine()}")
    print(
        f"paced: {low:g}-{high:g} s between a patient's messages; "
        "back-to-back: none (saturation). 3 conversations of "
        f"{len(latency.CONVERSATION)} messages per patient."
    )
    print(table(["measure", "ours", "stock rasa init", "target"], rows))


if __name__ == "__main__":
    main()
