"""The clinic's CSV export and figures."""

from __future__ import annotations

import csv
import io
import json

from bot.checkins.inbound import Replies
from bot.checkins.report import COLUMNS, export_csv, figures
from bot.checkins.sender import run_due
from bot.cli import main
from bot.settings import get_settings
from tests.bot.checkins.conftest import ZONE, Recorder
from tests.support.clock import at
from tests.support.sms import PATIENT


def programme_under_way(store, clock, schedule):
    send = Recorder()
    clock.set(at("2026-06-01 18:00", ZONE))
    run_due(store, get_settings(), clock, send=send)
    Replies(store, get_settings(), schedule, clock).handle(PATIENT, "8", "SM1")
    clock.set(at("2026-06-03 10:30", ZONE))
    run_due(store, get_settings(), clock, send=send)
    clock.set(at("2026-06-07 12:00", ZONE))  # day 2 unanswered: missed
    run_due(store, get_settings(), clock, send=send)


def test_figures_per_check_in(store, clock, schedule, enrolled, checkins):
    programme_under_way(store, clock, schedule)
    found = figures(checkins)
    assert found["evening"] == {
        "went_out": 1, "answered": 1, "missed": 0, "alerts": 1, "reply_rate": 1.0,
        "alert_rate": 1.0,
    }  # fmt: skip
    assert found["day2"]["missed"] == 1 and found["day2"]["reply_rate"] == 0.0
    assert found["week6"]["went_out"] == 0 and found["week6"]["reply_rate"] is None


def test_the_csv_has_every_check_in(store, clock, schedule, enrolled, checkins):
    programme_under_way(store, clock, schedule)
    out = io.StringIO()
    assert export_csv(checkins, out) == 5
    read = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(read[0]) == COLUMNS
    assert (read[0]["key"], read[0]["answer_value"], read[0]["alert"]) == ("evening", "8", "1")
    assert read[0]["enrolled_by"] == "RN Test"


def test_the_commands(store, clock, schedule, enrolled, tmp_path, capsys):
    programme_under_way(store, clock, schedule)
    capsys.readouterr()
    assert main(["checkins", "figures", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["evening"]["alerts"] == 1
    assert main(["checkins", "figures"]) == 0
    assert "evening  went out    1" in capsys.readouterr().out
    target = tmp_path / "checkins.csv"
    assert main(["checkins", "export", str(target)]) == 0
    assert len(target.read_text(encoding="utf-8").splitlines()) == 6
