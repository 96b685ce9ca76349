"""Check-in tests: a real SQLite file (the ASSISTANT_DB of tests/conftest.py), a clock moved
by hand, the default schedule, and the fake Twilio API for the outbound sender."""

from __future__ import annotations

from typing import Callable, Iterator, List

import pytest

from bot.checkins.enrol import enrol
from bot.checkins.schedule import Schedule, load_schedule
from bot.checkins.sender import run_due
from bot.checkins.store import CheckinStore
from bot.settings import get_settings
from bot.store import Store, get_store
from tests.support.clock import FakeClock, at
from tests.support.fake_twilio import FakeTwilio, serve_fake_twilio
from tests.support.sms import PATIENT

ZONE = "America/Chicago"
PROCEDURE = "2026-06-01 10:30"  # a Monday, no clock change near


@pytest.fixture(autouse=True)
def no_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM_NUMBER",
        "TWILIO_API_BASE",
        "TWILIO_WEBHOOK_URL",
        "SMS_SKIP_SIGNATURE_CHECK",
        "CLINIC_TIMEZONE",
        "CHECKINS_SCHEDULE",
        "NOTIFY_WEBHOOK_URL",
        "NOTIFY_EMAIL_TO",
        "NOTIFY_SMS_TO",
    ):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


@pytest.fixture
def store() -> Store:
    return get_store()


@pytest.fixture
def checkins(store: Store) -> CheckinStore:
    return CheckinStore(store)


@pytest.fixture
def schedule() -> Schedule:
    return load_schedule()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at(PROCEDURE, ZONE))


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilio]:
    """The fake Messages API, with the outbound sender's settings pointing at it."""
    yield from serve_fake_twilio(monkeypatch)


@pytest.fixture
def enrolled(store: Store, clock: FakeClock) -> int:
    """The test patient, enrolled at the procedure time."""
    return enrol(
        store,
        phone=PATIENT,
        procedure="kyphoplasty",
        when=PROCEDURE,
        zone=ZONE,
        enrolled_by="RN Test",
        clock=clock,
    )


@pytest.fixture
def cycle(store: Store, clock: FakeClock) -> Callable[[], dict]:
    """One worker cycle of the check-in job at the clock's time."""
    return lambda: run_due(store, get_settings(), clock)


class Recorder:
    """A send function that keeps what it was asked to send (no Twilio at all)."""

    def __init__(self) -> None:
        self.sent: List[tuple] = []

    def __call__(self, to: str, body: str) -> List[str]:
        self.sent.append((to, body))
        return [f"SM{len(self.sent)}"]
