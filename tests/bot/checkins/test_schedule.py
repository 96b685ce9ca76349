"""The schedule file: due times on the patient's clock, the window, daylight saving, errors."""

from __future__ import annotations

from datetime import timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.checkins.schedule import DEFAULT_PATH, ScheduleError, load_schedule, parse
from tests.support.clock import at


def local_due(schedule, when: str, zone: str) -> dict:
    due = schedule.due_times(at(when, zone), zone)
    return {key: moment.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M") for key, moment in due}


def test_the_default_programme_on_the_patients_clock(schedule):
    assert local_due(schedule, "2026-06-01 10:30", "America/Chicago") == {
        "evening": "06-01 18:00",
        "day2": "06-03 10:30",
        "day7": "06-08 10:00",
        "day14": "06-15 10:00",
        "week6": "07-13 10:00",
    }


def test_due_times_are_stored_in_utc(schedule):
    [(_, first), *_] = schedule.due_times(at("2026-06-01 10:30", "Asia/Tokyo"), "Asia/Tokyo")
    assert first.tzinfo == timezone.utc and first.hour == 9  # 18:00 in Tokyo


def test_a_late_procedure_moves_the_evening_text_to_the_next_morning(schedule):
    due = local_due(schedule, "2026-06-01 19:30", "America/Chicago")
    assert due["evening"] == "06-02 08:00"  # 3 hours after is 22:30: outside the window
    assert due["day2"] == "06-03 19:30"


def test_an_early_procedure_time_waits_for_the_window(schedule):
    assert local_due(schedule, "2026-06-01 06:00", "America/Chicago")["day2"] == "06-03 08:00"


@pytest.mark.parametrize(
    "procedure, zone",
    [
        ("2026-03-06 10:30", "America/Chicago"),  # clocks go forward on 8 March
        ("2026-10-30 10:30", "America/New_York"),  # clocks go back on 1 November
        ("2026-03-27 09:00", "Europe/London"),  # clocks go forward on 29 March
    ],
)
def test_a_clock_change_moves_no_check_in_on_the_patients_clock(schedule, procedure, zone):
    due = local_due(schedule, procedure, zone)
    assert due["day2"].endswith(procedure[-5:])
    assert due["day7"].endswith("10:00") and due["day14"].endswith("10:00")
    assert len(set(due.values())) == len(due)


def test_the_window_in_local_time(schedule):
    assert schedule.in_window(at("2026-06-01 08:00", "America/Chicago"), "America/Chicago")
    assert schedule.in_window(at("2026-06-01 20:59", "America/Chicago"), "America/Chicago")
    assert not schedule.in_window(at("2026-06-01 21:00", "America/Chicago"), "America/Chicago")
    assert not schedule.in_window(at("2026-06-01 07:59", "America/Chicago"), "America/Chicago")


def raw() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def test_a_clinic_can_change_the_schedule_without_python(tmp_path: Path, monkeypatch):
    data = raw()
    data["checkins"] = [c for c in data["checkins"] if c["key"] != "week6"]
    data["checkins"][0]["when"] = {"day": 1, "at": "09:15"}
    path = tmp_path / "schedule.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setenv("CHECKINS_SCHEDULE", str(path))
    from bot.settings import get_settings

    get_settings.cache_clear()
    schedule = load_schedule()
    assert [e.key for e in schedule.entries] == ["evening", "day2", "day7", "day14"]
    assert local_due(schedule, "2026-06-01 10:30", "America/Chicago")["evening"] == "06-02 09:15"
    assert schedule.weeks == 2


@pytest.mark.parametrize(
    "change, says",
    [
        (lambda d: d["checkins"].append(dict(d["checkins"][0])), "key"),
        (lambda d: d["checkins"][0].update(ask="stars"), "ask"),
        (lambda d: d["limits"].update(window=["21:00", "08:00"]), "window"),
        (lambda d: d["checkins"][0]["when"].update(at="6pm"), "time"),
        (lambda d: d.pop("intro"), "intro"),
    ],
)
def test_a_broken_schedule_file_says_what_is_wrong(change, says):
    data = raw()
    change(data)
    with pytest.raises(ScheduleError, match=says):
        parse(data)
