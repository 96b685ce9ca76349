"""Check-in tests: the default schedule."""

from __future__ import annotations

import pytest

from bot.checkins.schedule import Schedule, load_schedule


@pytest.fixture
def schedule() -> Schedule:
    return load_schedule()
