"""Throughput and p95 of the scale-out layout: 1, 2 and 4 Rasa servers behind nginx on PostgreSQL
and Redis, with the embedded SQLite single process beside them, in one run.

Back-to-back conversations (bench/latency.py's saturation pacing: the next message goes the
moment the answer arrives), 10 and 50 at once, each patient holding `--conversations`
conversations of bench.latency.CONVERSATION (nine messages, a red flag among them). Each layout
is started fresh on free loopback ports (bot/cluster.py), warmed up, measured, stopped.

    python -m bench.cluster [--replicas 1,2,4] [--levels 10,50] [--conversations 1]

One Rasa server handles one message at a time, so throughput can grow only with the cores
there are: on this 2-core machine, shared with PostgreSQL, Redis, nginx, the action servers and
the load generator, 4 servers cannot beat 2 by much. msg/s per core is the figure that carries to
a bigger host.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Dict, List

from bench.common import OURS_MODEL, free_port, running, table
from bench.latency import first_answer_seconds, load
from bot.cluster import Cluster, Ports


def _measure(name: str, url: str, levels: List[int], conversations: int) -> List[Dict]:
    asyncio.run(load(url, 4, 1))  # warm-up: every server has answered once
    rows = []
    for level in levels:
        row = asyncio.run(load(url, level, conversations))
        cores = os.cpu_count() or 1
        rows.append(
            {
                "layout": name,
                **row,
                "msg/s per core": round(float(row["msg/s"]) / cores, 1),  # type: ignore[arg-type]
            }
        )
        print(
            f"  {name}, {level} at once: {row['msg/s']} msg/s, p95 {row['p95 ms']} ms", flush=True
        )
    return rows


def sqlite_single(levels: List[int], conversations: int) -> List[Dict]:
    with running(OURS_MODEL) as servers:
        url = f"http://127.0.0.1:{servers.rasa_port}/webhooks/rest/webhook"
        first_answer_seconds(url, time.monotonic())
        return _measure("SQLite, 1 Rasa process (make run)", url, levels, conversations)


def cluster(replicas: int, levels: List[int], conversations: int) -> List[Dict]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    ports = Ports(
        public=free_port(),
        rasa=tuple(free_port() for _ in range(replicas)),
        actions_proxy=free_port(),
        actions=(free_port(), free_port()),
        staff=free_port(),
        postgres=free_port(),
        redis=free_port(),
    )
    running_cluster = Cluster(replicas, directory=workdir, ports=ports, model=OURS_MODEL)
    started = time.monotonic()
    try:
        running_cluster.start()
        print(f"  {replicas} Rasa servers up in {time.monotonic() - started:.0f} s", flush=True)
        url = f"{running_cluster.url}/webhooks/rest/webhook"
        name = f"PostgreSQL + Redis, {replicas} Rasa process{'es' if replicas > 1 else ''}"
        return _measure(name, url, levels, conversations)
    finally:
        running_cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", default="1,2,4")
    parser.add_argument("--levels", default="10,50")
    parser.add_argument(
        "--conversations", type=int, default=1, help="conversations per simulated patient"
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    if not OURS_MODEL.exists():
        raise SystemExit(f"no model at {OURS_MODEL}: python -m bot train")
    print("SQLite single process ...", flush=True)
    rows = sqlite_single(levels, args.conversations)
    for replicas in (int(x) for x in args.replicas.split(",")):
        print(f"cluster of {replicas} ...", flush=True)
        rows += cluster(replicas, levels, args.conversations)
    keys = ["layout", "concurrency", "messages", "p50 ms", "p95 ms", "msg/s", "msg/s per core"]
    keys.append("errors")
    print()
    print(f"{os.cpu_count()} cores; back-to-back conversations")
    print(table(keys, [[r[k] for k in keys] for r in rows]))


if __name__ == "__main__":
    main()
