"""The one seam for the time of day: sessions, lock-outs, the escalation chain and the
check-ins all read it. The care team's code calls `now()`; the check-ins take a `Clock`
(any function returning an aware UTC datetime), `system_clock` by default, which reads
`now()` late, so a test that replaces `now` moves both without sleeping.

Across processes (the end-to-end tests run the real servers), `ASSISTANT_CLOCK_FILE`
names a file holding one ISO 8601 time ("2026-06-01T15:30:00+00:00"): while the variable is
set, `now()` (and `bot.store.utcnow`) read the time from that file, at every call, so a test
moves every server's clock by rewriting it. A missing or empty file is the real time. It is
for tests only: the worker warns at start when it is set."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Callable, Optional

Clock = Callable[[], datetime]
CLOCK_FILE = "ASSISTANT_CLOCK_FILE"


def from_file() -> Optional[datetime]:
    """The time in `ASSISTANT_CLOCK_FILE`, or None when it is not set, missing or empty."""
    path = os.environ.get(CLOCK_FILE, "").strip()
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as held:
            text = held.read().strip()
    except FileNotFoundError:
        return None
    if not text:
        return None
    moment = datetime.fromisoformat(text)  # a malformed file is an error, not the real time
    if moment.tzinfo is None:
        raise ValueError(f"{CLOCK_FILE}: {text!r} has no UTC offset")
    return moment.astimezone(timezone.utc)


def now() -> datetime:
    """The current time in UTC."""
    return from_file() or datetime.now(timezone.utc)


def system_clock() -> datetime:
    """The default Clock: `now()`, looked up at each call."""
    return now()
