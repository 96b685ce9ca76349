"""The worker's start-up warnings about settings that lose something."""

from __future__ import annotations

import logging
import threading

import pytest

from bot import worker
from bot.settings import get_settings
from bot.store import open_store
from tests.support.loopback import free_port


def start_and_stop(caplog) -> str:
    caplog.set_level(logging.WARNING)
    stop = threading.Event()
    stop.set()
    worker.run(open_store(), get_settings(), stop)
    return caplog.text


@pytest.fixture(autouse=True)
def sms_settings(monkeypatch):
    monkeypatch.setenv("STAFF_PORT", str(free_port()))
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER", "SMS_SKIP_SIGNATURE_CHECK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token")
    get_settings.cache_clear()


def test_sms_without_an_account_to_text_from_is_warned_about(caplog):
    text = start_and_stop(caplog)
    assert "TWILIO_ACCOUNT_SID or TWILIO_FROM_NUMBER is not set" in text


def test_no_warning_when_late_answers_can_be_texted(caplog, monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+15555550100")
    get_settings.cache_clear()
    assert "TWILIO_ACCOUNT_SID" not in start_and_stop(caplog)


def test_no_warning_when_the_sms_channel_refuses_everything(caplog, monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    get_settings.cache_clear()
    assert "TWILIO_ACCOUNT_SID" not in start_and_stop(caplog)


def test_no_staff_account_is_warned_about(caplog):
    assert "No staff account yet" in start_and_stop(caplog)


def test_a_worker_cycle_runs_the_check_in_job(monkeypatch):
    """The job itself is tested with a moved clock in tests/bot/checkins; here only that the
    worker runs it: a programme from long ago has every check-in expired, none sent."""
    from bot.checkins.enrol import enrol
    from bot.store import get_store
    from tests.support.fake_twilio import FakeTwilio
    from tests.support.sms import ACCOUNT_SID, CLINIC_NUMBER, PATIENT

    api = FakeTwilio().start()
    try:
        monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
        monkeypatch.setenv("TWILIO_FROM_NUMBER", CLINIC_NUMBER)
        monkeypatch.setenv("TWILIO_API_BASE", api.url)
        get_settings.cache_clear()
        enrol(get_store(), phone=PATIENT, procedure="kyphoplasty", when="2020-01-06 10:00",
              zone="America/Chicago", enrolled_by="RN")  # fmt: skip
        result = worker.run_once(get_store(), get_settings())
        assert result["checkins"] == {"expired": 5} and not api.sent
    finally:
        api.stop()


def test_a_broken_check_in_schedule_is_said_at_start(tmp_path, caplog, monkeypatch):
    broken = tmp_path / "schedule.yml"
    broken.write_text("limits: {}\n", encoding="utf-8")
    monkeypatch.setenv("CHECKINS_SCHEDULE", str(broken))
    get_settings.cache_clear()
    assert "the check-in schedule cannot be used" in start_and_stop(caplog)


def test_active_programmes_without_twilio_are_warned_about(caplog):
    from bot.checkins.enrol import enrol

    enrol(open_store(), phone="+15555550123", procedure="kyphoplasty",
          when="2026-06-01 10:30", zone="America/Chicago", enrolled_by="RN")  # fmt: skip
    assert "1 check-in programme(s) are active" in start_and_stop(caplog)
