"""Open hours for routing, and a warning sign after hours going to the on-call number."""

from datetime import datetime, timezone

import pytest

from bot import clinic_hours, clock
from bot.escalation_chain import first_notifiers
from bot.settings import get_settings

# 2026-12-02 is a Wednesday; New York is UTC-5 in December
WEDNESDAY_10AM_NY = datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc)
WEDNESDAY_8PM_NY = datetime(2026, 12, 3, 1, 0, tzinfo=timezone.utc)
SATURDAY_10AM_NY = datetime(2026, 12, 5, 15, 0, tzinfo=timezone.utc)
SATURDAY_1PM_NY = datetime(2026, 12, 5, 18, 0, tzinfo=timezone.utc)


@pytest.fixture
def hours(monkeypatch):
    monkeypatch.setenv("CLINIC_OPEN_HOURS", "Mon-Fri 08:00-17:00, sat 9:00-12:00")
    monkeypatch.setenv("CLINIC_TIMEZONE", "America/New_York")
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("NOTIFY_WEBHOOK_SECRET", "s")
    monkeypatch.setenv("NOTIFY_SMS_TO", "+15555550199")
    monkeypatch.setenv("ESCALATION_CHAIN", "webhook,sms")
    get_settings.cache_clear()


def test_open_hours_follow_the_clinic_timezone(hours):
    settings = get_settings()
    assert clinic_hours.is_open(settings, WEDNESDAY_10AM_NY) is True
    assert clinic_hours.is_open(settings, WEDNESDAY_8PM_NY) is False
    assert clinic_hours.is_open(settings, SATURDAY_10AM_NY) is True
    assert clinic_hours.is_open(settings, SATURDAY_1PM_NY) is False
    assert clinic_hours.parse("fri-mon 00:00-23:59")[0][0] == {4, 5, 6, 0}


def test_unset_hours_are_unknown_and_unreadable_hours_count_as_closed(monkeypatch):
    assert clinic_hours.is_open(get_settings(), WEDNESDAY_10AM_NY) is None
    monkeypatch.setenv("CLINIC_OPEN_HOURS", "weekdays nine to five")
    get_settings.cache_clear()
    assert clinic_hours.is_open(get_settings(), WEDNESDAY_10AM_NY) is False


def test_after_hours_a_warning_sign_goes_to_the_on_call_number_at_once(hours, monkeypatch):
    settings = get_settings()
    assert first_notifiers(settings, "urgent", WEDNESDAY_10AM_NY) == ("webhook",)
    assert first_notifiers(settings, "urgent", WEDNESDAY_8PM_NY) == ("webhook", "sms")
    assert first_notifiers(settings, "callback", WEDNESDAY_8PM_NY) == ("webhook",)
    monkeypatch.setattr(clock, "now", lambda: WEDNESDAY_8PM_NY)
    assert first_notifiers(settings, "emergency") == ("webhook", "sms")
