"""SMS tests: no Twilio settings leak in from the developer's environment; a fake
Twilio API on loopback when a test needs one."""

from __future__ import annotations

from typing import Iterator

import pytest

from bot.settings import get_settings
from tests.support.fake_twilio import FakeTwilio, serve_fake_twilio

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
    yield from serve_fake_twilio(monkeypatch)
