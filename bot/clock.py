"""The one seam for the time of day: sessions, lock-outs, the escalation chain and the
check-ins all read it. The care team's code calls `now()`; the check-ins take a `Clock`
(any function returning an aware UTC datetime), `system_clock` by default, which reads
`now()` late, so a test that replaces `now` moves both without sleeping."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

Clock = Callable[[], datetime]


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(timezone.utc)


def system_clock() -> datetime:
    """The default Clock: `now()`, looked up at each call."""
    return now()
