"""The one seam for the time of day in the care team's code (sessions, lock-outs, the
escalation chain): tests replace `now` to move time without sleeping."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(timezone.utc)
