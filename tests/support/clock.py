"""A clock that tests move by hand, for the one time seam (bot/clock.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo


@dataclass
class FakeClock:
    """Called like `bot.store.utcnow`; `advance` and `set` move it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment.astimezone(timezone.utc)
        return self.now

    def local(self, zone: str) -> datetime:
        return self.now.astimezone(ZoneInfo(zone))


def at(when: str, zone: str) -> datetime:
    """ "YYYY-MM-DD HH:MM" on the wall clock of `zone`, in UTC."""
    return datetime.fromisoformat(when).replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)
