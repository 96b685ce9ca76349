"""Long messages: the answer reads the first part, the warning-sign scan reads all of it.

A message longer than `bot.text.MAX_CHARS` (2,000 characters) is cut for the NLU, so
what the classifiers and the dialogue cost is bounded, and the patient is told kindly
that long messages are cut (the channels add `truncated_note`). A warning sign can sit
anywhere in it, though, so the whole message is cleaned and read by the deterministic
red-flag detector (`bot.nlu.red_flags`, linear in the length) in a separate process:
the Rasa server's event loop never runs that work, so a flood of 100 KB messages does
not hold up anyone else's conversation. What the scan finds travels with the cut text
as UserMessage metadata (`Incoming.metadata`), which only the server sets, and the
red-flag component escalates on it like on its own finding.

If the process cannot be started or dies, the scan runs in a thread instead (slower for
the others, never skipped).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any, Dict, Optional, Tuple

from bot.settings import get_settings
from bot.text import MAX_CHARS, Incoming, clean_incoming, clean_text, cut

logger = logging.getLogger(__name__)

_pool: Optional[ProcessPoolExecutor] = None


def read_whole(raw: str, threshold_f: float) -> Tuple[Incoming, Optional[Dict[str, Any]]]:
    """The cut text, and the reports of warning signs anywhere in the whole message
    (tier and symptoms, or None). Runs in the scanning process."""
    from bot.nlu.red_flags import detector

    whole = clean_text(raw)
    detection = detector(threshold_f).detect(whole, reports_only=True)
    found = {"tier": detection.tier, "symptoms": detection.symptoms} if detection.reports else None
    return cut(whole), found


def _warm() -> None:
    from bot.nlu.red_flags import detector

    detector().detect("warm up")


def _scanner() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: the Rasa server has threads and TensorFlow loaded
        context = multiprocessing.get_context("spawn")
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_warm)
    return _pool


def shutdown() -> None:
    """Stop the scanning process (tests, and a server that is stopping)."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


async def read_message(raw: object) -> Incoming:
    """What a patient sent, ready for the assistant: short messages cleaned here, long
    ones cleaned, cut and scanned whole for warning signs off the event loop."""
    if not isinstance(raw, str) or len(raw) <= MAX_CHARS:
        return clean_incoming(raw)
    from bot.nlu.red_flags import fever_threshold_f

    threshold = fever_threshold_f(get_settings().fever_threshold)
    loop = asyncio.get_running_loop()
    try:
        incoming, found = await loop.run_in_executor(_scanner(), read_whole, raw, threshold)
    except Exception:
        logger.exception("the long-message scanner failed; scanning in a thread instead")
        shutdown()
        incoming, found = await asyncio.to_thread(read_whole, raw, threshold)
    return replace(incoming, red_flags=found) if found else incoming
