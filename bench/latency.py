"""Reply latency and throughput over HTTP against the real servers, ours and stock side by side.

Each simulated patient holds a realistic conversation (questions, follow-ups, a red-flag
report that runs the escalation action). Loopback only; bounded in count and time.

Two pacings at every level:
- paced: a patient reads each answer and types the next message. Real gaps on a phone are
  ten seconds or more; the benchmark waits 1-3 s (seeded, uniform), so its load is heavier
  than real use. Patients start at random moments within the first 3 s, not all at once.
- back-to-back: no pause at all, the next message goes the moment the answer arrives. This
  is the saturation test: with N messages always in flight on one Rasa process, latency is
  about N times the CPU cost of one message, whatever the pipeline.

    python -m bench.latency [--levels 1,10,50] [--conversations 3] [--models ours,stock]
                            [--pacing paced,back-to-back] [--think 1-3]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import aiohttp

from bench.common import OURS_MODEL, STOCK_MODEL, percentile, rss_mb, running, table

CONVERSATION = [
    "hi",
    "how do i use ice packs",
    "how long does that last?",
    "what is vertebroplasty",
    "and kyphoplasty?",
    "what can i take for the pain",
    "my legs went numb this morning",
    "skip",
    "thanks",
]
TIME_CAP_SECONDS = 240
PACINGS = ("paced", "back-to-back")
THINK_SECONDS = (1.0, 3.0)


async def converse(
    session: aiohttp.ClientSession,
    url: str,
    timings: List[float],
    errors: List[str],
    rng: random.Random,
    pause: Tuple[float, float],
) -> None:
    sender = "bench-" + uuid.uuid4().hex[:12]
    for index, text in enumerate(CONVERSATION):
        if index and pause[1]:
            await asyncio.sleep(rng.uniform(*pause))
        start = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text}) as reply:
                body = await reply.json()
                if reply.status != 200 or not body:
                    errors.append(f"{reply.status} {text!r}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            errors.append(f"{type(error).__name__} {text!r}")
            continue
        timings.append(time.perf_counter() - start)


async def load(
    url: str,
    concurrency: int,
    conversations_each: int,
    pacing: str = "back-to-back",
    think_seconds: Tuple[float, float] = THINK_SECONDS,
) -> Dict[str, object]:
    """`concurrency` patients, each holding `conversations_each` conversations in a row."""
    timings: List[float] = []
    errors: List[str] = []
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=concurrency)
    started = time.perf_counter()
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        pause = think_seconds if pacing == "paced" else (0.0, 0.0)

        async def patient(number: int) -> None:
            rng = random.Random(number)
            await asyncio.sleep(rng.uniform(0, pause[1]))
            for _ in range(conversations_each):
                if time.perf_counter() - started > TIME_CAP_SECONDS:
                    return
                await converse(session, url, timings, errors, rng, pause)

        await asyncio.gather(*(patient(n) for n in range(concurrency)))
    elapsed = time.perf_counter() - started
    ms = [t * 1000 for t in timings]
    return {
        "pacing": pacing,
        "concurrency": concurrency,
        "messages": len(timings),
        "p50 ms": round(percentile(ms, 50)),
        "p95 ms": round(percentile(ms, 95)),
        "p99 ms": round(percentile(ms, 99)),
        "msg/s": round(len(timings) / elapsed, 1),
        "errors": len(errors),
    }


def first_answer_seconds(url: str, started: float) -> float:
    asyncio.run(_one(url))
    return time.monotonic() - started


async def _one(url: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"sender": "warmup", "message": "hi"}) as reply,
    ):
        await reply.read()


def measure(
    name: str,
    model: Path,
    levels: List[int],
    conversations: int,
    pacings: Sequence[str] = PACINGS,
    think_seconds: Tuple[float, float] = THINK_SECONDS,
) -> Tuple[list, dict]:
    started = time.monotonic()
    with running(model) as servers:
        url = f"http://127.0.0.1:{servers.rasa_port}/webhooks/rest/webhook"
        startup = first_answer_seconds(url, started)
        asyncio.run(load(url, 2, 1))  # warm-up
        memory = {
            "model": name,
            "start-up to first answer s": round(startup, 1),
            "Rasa server RSS MB": round(rss_mb(servers.processes["rasa"].pid)),
            "action server RSS MB": round(rss_mb(servers.processes["actions"].pid)),
        }
        rows = []
        for pacing in pacings:
            for level in levels:
                row = asyncio.run(load(url, level, conversations, pacing, think_seconds))
                rows.append({"model": name, **row})
    return rows, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,10,50")
    parser.add_argument(
        "--conversations", type=int, default=3, help="conversations per simulated patient"
    )
    parser.add_argument("--models", default="ours,stock")
    parser.add_argument("--pacing", default=",".join(PACINGS))
    parser.add_argument("--think", default="1-3", help="paced: seconds between messages, min-max")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    pacings = args.pacing.split(",")
    low, high = (float(x) for x in args.think.split("-"))
    models = {"ours": OURS_MODEL, "stock": STOCK_MODEL}
    rows, memory = [], []
    for name in args.models.split(","):
        if not models[name].exists():
            print(f"skipping {name}: no model at {models[name]}")
            continue
        got, mem = measure(name, models[name], levels, args.conversations, pacings, (low, high))
        rows += got
        memory.append(mem)
    keys = [
        "model",
        "pacing",
        "concurrency",
        "messages",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "msg/s",
        "errors",
    ]
    print(table(keys, [[r[k] for k in keys] for r in rows]))
    print()
    mkeys = list(memory[0]) if memory else []
    print(table(mkeys, [[m[k] for k in mkeys] for m in memory]))


if __name__ == "__main__":
    main()
