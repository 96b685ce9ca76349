"""SMS tests: no Twilio settings leak in from the developer's environment; a fake
Twilio API on loopback when a test needs one."""

from __future__ import annotations

from typing import Iterator

import pytest

from bot.settings import get_settings
from tests.support.fake_twilio import FakeTwilio
from tests.support.sms import ACCOUNT_SID, AUTH_TOKEN, CLINIC_NUMBER

_SETTINGS = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_API_BASE",
    "TWILIO_WEBHOOK_URL",
    "SMS_REPLY_TIMEOUT_SECONDS",
    "SMS_SKIP_SIGNATURE_CHECK",
)


@pytest.fixture(autouse=True)
def no_twilio_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _SETTINGS:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


@pytest.fixture
def fake_twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilio]:
    """A fake Messages API, with the outbound sender's settings pointing at it."""
    api = FakeTwilio().start()
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", CLINIC_NUMBER)
    monkeypatch.setenv("TWILIO_API_BASE", api.url)
    get_settings.cache_clear()
    yield api
    api.stop()
