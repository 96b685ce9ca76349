"""Long messages over REST against the real servers: what one costs, and what a flood of
them does to another patient's conversation (issue 13, item 1).

1. Server time by length: one message of 250, 2,000, 20,000 and 100,000 characters, of two
   kinds: "numb " repeated (the issue's worst case for the red-flag detector) and patient
   prose with a warning sign at its very end ("found" says whether it was escalated: the
   answer carries the urgent advice). Loopback, one message at a time, median of --repeat.
2. Flood: --flooders clients post 100 KB messages back to back for --seconds while one
   other patient asks a short question every 0.25 s; prints that patient's answer times
   alone and during the flood, and the delay the flood added (worst minus the median alone).

    python -m bench.long_messages [--repeat 3] [--flooders 4] [--seconds 15]

Targets: under 200 ms of server time for a 100 KB message, under 1 s of delay for the other
conversation.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from typing import Dict, List, Tuple

import aiohttp

from bench.common import OURS_MODEL, percentile, running, table

LENGTHS = (250, 2_000, 20_000, 100_000)
PROSE = (
    "I had my kyphoplasty last week and the soreness is getting a little better each day. "
    "My daughter drives me to the store and I walk a bit more every morning. "
    "I was wondering how long I should keep using the ice packs and when I can shower. "
)
TAIL = "Also my legs went numb an hour ago and I can't feel my feet."
PROBE = "how do i use ice packs"
URGENT_WORDS = ("call the clinic now", "call 911")


def message(kind: str, chars: int) -> str:
    if kind == "numb":
        return ("numb " * (chars // 5 + 1))[:chars]
    body = (PROSE * (chars // len(PROSE) + 1))[: max(chars - len(TAIL) - 1, 0)]
    return f"{body} {TAIL}"[-chars:] if chars < len(TAIL) + 1 else f"{body} {TAIL}"


async def post(session: aiohttp.ClientSession, url: str, text: str) -> Tuple[float, str]:
    started = time.monotonic()
    async with session.post(url, json={"sender": uuid.uuid4().hex, "message": text}) as reply:
        answer = await reply.json()
    seconds = time.monotonic() - started
    return seconds, "\n".join(m.get("text") or "" for m in answer).lower()


async def by_length(url: str, repeat: int) -> List[List[object]]:
    rows: List[List[object]] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        await post(session, url, message("prose", 5_000))  # warm: first long message
        for kind in ("numb", "prose"):
            for chars in LENGTHS:
                times, found = [], []
                for _ in range(repeat):
                    seconds, text = await post(session, url, message(kind, chars))
                    times.append(seconds * 1000)
                    found.append(any(w in text for w in URGENT_WORDS))
                rows.append(
                    [
                        kind,
                        chars,
                        f"{statistics.median(times):.0f}",
                        f"{max(times):.0f}",
                        f"{sum(found)}/{repeat}",
                    ]  # fmt: skip
                )
                print(f"  {kind} {chars}: {statistics.median(times):.0f} ms", flush=True)
    return rows


async def probe(session: aiohttp.ClientSession, url: str, until: float, out: List[float]) -> None:
    while time.monotonic() < until:
        seconds, _ = await post(session, url, PROBE)
        out.append(seconds * 1000)
        await asyncio.sleep(0.25)


async def flood_one(
    session: aiohttp.ClientSession, url: str, until: float, out: List[float]
) -> None:
    text = message("prose", 100_000)
    while time.monotonic() < until:
        seconds, _ = await post(session, url, text)
        out.append(seconds * 1000)


async def flood(url: str, flooders: int, seconds: float) -> Dict[str, float]:
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        alone: List[float] = []
        await probe(session, url, time.monotonic() + 5, alone)
        during: List[float] = []
        long_ones: List[float] = []
        until = time.monotonic() + seconds
        await asyncio.gather(
            probe(session, url, until, during),
            *(flood_one(session, url, until, long_ones) for _ in range(flooders)),
        )
    return {
        "alone_p50": percentile(alone, 50),
        "alone_max": max(alone),
        "during_p50": percentile(during, 50),
        "during_p95": percentile(during, 95),
        "during_max": max(during),
        "delay": max(during) - percentile(alone, 50),
        "long_sent": float(len(long_ones)),
        "long_p50": percentile(long_ones, 50) if long_ones else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--flooders", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    with running(OURS_MODEL) as servers:
        url = f"http://127.0.0.1:{servers.rasa_port}/webhooks/rest/webhook"
        print("server time by length (REST, loopback):", flush=True)
        rows = asyncio.run(by_length(url, args.repeat))
        print(table(["kind", "chars", "median ms", "max ms", "found"], rows))
        print(f"flood: {args.flooders} clients posting 100 KB for {args.seconds:.0f} s", flush=True)
        figures = asyncio.run(flood(url, args.flooders, args.seconds))
    print(
        table(
            ["measure", "ms"],
            [
                ["other patient alone, p50", f"{figures['alone_p50']:.0f}"],
                ["other patient alone, max", f"{figures['alone_max']:.0f}"],
                ["other patient during flood, p50", f"{figures['during_p50']:.0f}"],
                ["other patient during flood, p95", f"{figures['during_p95']:.0f}"],
                ["other patient during flood, max", f"{figures['during_max']:.0f}"],
                ["delay added (max during - p50 alone)", f"{figures['delay']:.0f}"],
                ["100 KB messages answered in the flood", f"{figures['long_sent']:.0f}"],
                ["100 KB message answer, p50", f"{figures['long_p50']:.0f}"],
            ],
        )
    )


if __name__ == "__main__":
    main()
