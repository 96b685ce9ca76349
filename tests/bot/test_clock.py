"""The time seam: `now()`, and the clock file that moves every server process's clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot import clock
from bot.store import utcnow


def test_without_the_clock_file_the_time_is_real(monkeypatch):
    monkeypatch.delenv(clock.CLOCK_FILE, raising=False)
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_the_clock_file_sets_now_and_the_stores_time(tmp_path, monkeypatch):
    held = tmp_path / "clock"
    monkeypatch.setenv(clock.CLOCK_FILE, str(held))
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=5)  # no file yet
    held.write_text("2026-06-01T10:30:00-05:00\n")
    moment = datetime(2026, 6, 1, 15, 30, tzinfo=timezone.utc)
    assert clock.now() == moment and clock.system_clock() == moment and utcnow() == moment
    held.write_text("2026-06-03T15:30:00+00:00")
    assert clock.now() == moment + timedelta(days=2)  # read at every call
    held.write_text("")
    assert clock.now().year >= 2026 and clock.now() != moment + timedelta(days=2)


def test_a_clock_file_without_an_offset_is_an_error(tmp_path, monkeypatch):
    held = tmp_path / "clock"
    held.write_text("2026-06-01T10:30:00")
    monkeypatch.setenv(clock.CLOCK_FILE, str(held))
    with pytest.raises(ValueError, match="no UTC offset"):
        clock.now()
