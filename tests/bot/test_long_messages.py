"""Long messages: cut for the answer, scanned whole for warning signs in another process,
while the event loop goes on serving everyone else."""

from __future__ import annotations

import asyncio
import time
from typing import Iterator, List, Tuple

import pytest

from bot import long_messages
from bot.long_messages import read_message
from bot.text import MAX_CHARS, RED_FLAG_SCAN

FILLER = "I had my kyphoplasty last week and I have a few questions about the recovery. "
TAIL = "Also my legs went numb an hour ago and I can't feel my feet."


@pytest.fixture(autouse=True, scope="module")
def scanner() -> Iterator[None]:
    yield
    long_messages.shutdown()


def long_message(chars: int, tail: str = TAIL) -> str:
    return (FILLER * (chars // len(FILLER) + 1))[: chars - len(tail) - 1] + " " + tail


async def reading_with_ticks(text: str) -> Tuple[object, float, float]:
    """Read `text` while a ticker runs on the loop: (result, seconds, longest tick gap)."""
    gaps: List[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.monotonic()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticks = asyncio.ensure_future(ticker())
    started = time.monotonic()
    result = await read_message(text)
    seconds = time.monotonic() - started
    done.set()
    await ticks
    return result, seconds, max(gaps or [0.0])


def test_a_warning_sign_at_the_end_of_a_100_kb_message_is_found_and_the_loop_runs_on():
    asyncio.run(read_message(long_message(5_000)))  # the scanning process starts once
    incoming, seconds, longest_gap = asyncio.run(reading_with_ticks(long_message(100_000)))
    assert incoming.truncated and len(incoming.text) <= MAX_CHARS  # type: ignore[attr-defined]
    assert "numb" not in incoming.text  # type: ignore[attr-defined]
    scan = incoming.metadata[RED_FLAG_SCAN]  # type: ignore[attr-defined]
    assert scan["tier"] == "urgent" and "numbness" in scan["symptoms"]
    assert longest_gap < 0.1, f"the event loop stalled {longest_gap:.3f} s"
    assert seconds < 10


def test_a_long_message_without_a_warning_sign_carries_no_scan():
    incoming = asyncio.run(read_message(long_message(20_000, "Thank you.")))
    assert incoming.truncated and incoming.metadata is None


def test_a_warning_sign_that_is_negated_in_the_whole_message_is_not_a_report():
    incoming = asyncio.run(read_message(long_message(10_000, "I have no numbness at all.")))
    assert incoming.metadata is None


def test_short_messages_are_read_on_the_spot_without_a_scan():
    incoming = asyncio.run(read_message("my legs went numb an hour ago"))
    assert not incoming.truncated and incoming.metadata is None
    assert incoming.text == "my legs went numb an hour ago"


def test_when_the_scanning_process_fails_the_scan_runs_in_a_thread(monkeypatch):
    class Broken:
        def submit(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("no processes here")

    monkeypatch.setattr(long_messages, "_scanner", lambda: Broken())
    incoming = asyncio.run(read_message(long_message(5_000)))
    assert incoming.metadata[RED_FLAG_SCAN]["tier"] == "urgent"  # type: ignore[index]
