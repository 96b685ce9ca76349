"""The clinic's CSV export and figures."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

from bot import alerts
from bot import clock as bot_clock
from bot.checkins.inbound import Replies
from bot.checkins.report import (
    COLUMNS,
    alert_times,
    clinic_figures,
    export_csv,
    figures,
    totals,
)
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
    found = json.loads(capsys.readouterr().out)
    assert found["per_checkin"]["evening"]["alerts"] == 1
    assert found["all"]["went_out"] == 2 and found["alerts"]["raised"] == 1
    assert main(["checkins", "figures"]) == 0
    printed = capsys.readouterr().out
    assert "evening  went out    1" in printed and "all      went out    2" in printed
    assert "check-in alerts: 1 raised, 1 waiting now, 0 acknowledged" in printed
    assert "median -, 90th percentile -" in printed
    target = tmp_path / "checkins.csv"
    assert main(["checkins", "export", str(target)]) == 0
    assert len(target.read_text(encoding="utf-8").splitlines()) == 6


def test_totals_add_up_every_check_in(store, clock, schedule, enrolled, checkins):
    programme_under_way(store, clock, schedule)
    found = totals(figures(checkins))
    assert found == {
        "went_out": 2, "answered": 1, "missed": 1, "alerts": 2, "reply_rate": 0.5,
        "alert_rate": 1.0,
    }  # fmt: skip


def test_time_to_acknowledge_counts_only_the_check_ins_alerts(
    store, clock, schedule, enrolled, checkins, monkeypatch
):
    programme_under_way(store, clock, schedule)  # pain 8 at 18:00, day 2 missed
    chat = store.record(
        sender="web:someone", channel="web", tier="urgent", symptoms=["numbness"],
        message="numb", event_key="web:someone:1", source="action", notifiers=(),
        now=clock() - timedelta(hours=5),
    )  # fmt: skip
    [escalation] = {r["escalation_id"] for r in checkins.checkins(enrolled) if r["alert"]}
    created = datetime.fromisoformat(store.get(escalation)["created_at"])
    monkeypatch.setattr(bot_clock, "now", lambda: created + timedelta(minutes=42))
    assert alerts.acknowledge(store, escalation, "ana")
    monkeypatch.setattr(bot_clock, "now", lambda: created + timedelta(minutes=300))
    assert alerts.acknowledge(store, chat.escalation_id, "ana")
    found = clinic_figures(checkins)["alerts"]
    assert found == {
        "raised": 1, "waiting_now": 0, "acknowledged": 1, "median_minutes_to_acknowledge": 42.0,
        "p90_minutes_to_acknowledge": 42.0,
    }  # fmt: skip
    assert alert_times(checkins).acknowledged == 1
