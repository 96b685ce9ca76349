"""`python -m bot checkins ...` against the test's SQLite file."""

from __future__ import annotations

import json

from bot.checkins.store import CheckinStore
from bot.cli import main
from bot.store import get_store
from tests.support.sms import PATIENT


def enroll(*extra: str) -> int:
    return main(["checkins", "enroll", "(555) 555-0123", "--procedure", "kyphoplasty",
                 "--at", "2026-06-01 10:30", "--by", "J. Rivera RN", *extra])  # fmt: skip


def test_enroll_records_who_when_and_the_local_schedule(capsys):
    assert enroll("--tz", "America/Denver") == 0
    out = capsys.readouterr().out
    assert "enrolled #1" in out and "by J. Rivera RN" in out
    assert "evening  due Mon 2026-06-01 18:00 (local)" in out
    [row] = CheckinStore(get_store()).enrolments()
    assert row["phone"] == PATIENT and row["timezone"] == "America/Denver"
    assert row["enrolled_by"] == "J. Rivera RN" and row["enrolled_at"]
    assert row["procedure_at"] == "2026-06-01T16:30:00+00:00"


def test_the_clinic_time_zone_is_the_default(capsys, monkeypatch):
    from bot.settings import get_settings

    monkeypatch.setenv("CLINIC_TIMEZONE", "America/New_York")
    get_settings.cache_clear()
    assert enroll() == 0
    assert CheckinStore(get_store()).enrolments()[0]["timezone"] == "America/New_York"


def test_a_number_has_one_active_programme(capsys):
    assert enroll() == 0
    assert enroll() == 1
    assert "already has an active programme" in capsys.readouterr().err
    assert main(["checkins", "stop", "1", "--by", "RN"]) == 0
    assert enroll() == 0  # a new programme after the old one stopped


def test_bad_input_is_refused_with_the_reason(capsys):
    assert enroll("--tz", "Mars/Olympus") == 1
    assert "unknown time zone" in capsys.readouterr().err
    code = main(["checkins", "enroll", "12", "--procedure", "kyphoplasty",
                 "--at", "2026-06-01 10:30", "--by", "RN"])  # fmt: skip
    assert code == 1 and "not a mobile number" in capsys.readouterr().err
    code = main(["checkins", "enroll", PATIENT, "--procedure", "kyphoplasty",
                 "--at", "June 1st", "--by", "RN"])  # fmt: skip
    assert code == 1 and "not a date and time" in capsys.readouterr().err


def test_list_show_and_stop(capsys):
    enroll()
    capsys.readouterr()
    assert main(["checkins", "list", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["status"] == "active"
    assert main(["checkins", "show", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [c["key"] for c in shown["checkins"]] == ["evening", "day2", "day7", "day14", "week6"]
    assert main(["checkins", "stop", "1", "--by", "RN", "--reason", "asked by phone"]) == 0
    assert main(["checkins", "stop", "1", "--by", "RN"]) == 1
    stopped = CheckinStore(get_store()).enrolment(1)
    assert (stopped["status"], stopped["stopped_by"], stopped["stop_reason"]) == (
        "stopped", "RN", "asked by phone",
    )  # fmt: skip
    assert {c["status"] for c in CheckinStore(get_store()).checkins(1)} == {"cancelled"}
    assert main(["checkins", "show", "9"]) == 1


def test_import_a_days_list_enrols_the_good_rows_and_reports_the_bad(tmp_path, capsys):
    day = tmp_path / "day.csv"
    day.write_text(
        "phone,procedure,date,time,timezone\n"
        "+15555550123,kyphoplasty,2026-06-01,08:00,\n"
        "555-555-0124,vertebroplasty,2026-06-01,09:30,America/Phoenix\n"
        "+15555550125,cement,2026-06-01,10:00,\n"
        "+15555550123,kyphoplasty,2026-06-01,11:00,\n",
        encoding="utf-8",
    )
    assert main(["checkins", "import", str(day), "--by", "Front desk"]) == 1
    captured = capsys.readouterr()
    assert "enrolled 2, refused 2" in captured.out
    assert "line 4: not enrolled: procedure" in captured.err
    assert "line 5: not enrolled: this number already" in captured.err
    rows = CheckinStore(get_store()).enrolments()
    assert [r["timezone"] for r in rows] == ["America/Chicago", "America/Phoenix"]
    assert {r["enrolled_by"] for r in rows} == {"Front desk"}


def test_import_says_which_columns_are_missing(tmp_path, capsys):
    day = tmp_path / "day.csv"
    day.write_text("phone,date\n+15555550123,2026-06-01\n", encoding="utf-8")
    assert main(["checkins", "import", str(day), "--by", "RN"]) == 1
    assert "missing column(s): procedure, time" in capsys.readouterr().err
