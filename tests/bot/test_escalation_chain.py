"""The escalation chain with a fake clock and local receivers: a webhook that is down and
nobody acknowledging sends the alert on to email; an acknowledgement stops the chain."""

from datetime import timedelta

import pytest

from bot import alerts, audit, clock, escalation_chain, notify
from bot.escalations import Turn, record
from bot.settings import get_settings
from bot.store import open_store
from bot.worker import run_once
from tests.support.receivers import SmtpReceiver, WebhookReceiver


@pytest.fixture
def receivers(monkeypatch):
    webhook = WebhookReceiver(status=503).start()
    smtp = SmtpReceiver()
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("NOTIFY_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("NOTIFY_EMAIL_TO", "manager@clinic.example")
    monkeypatch.setenv("SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("ESCALATION_CHAIN", "webhook, email")
    monkeypatch.setenv("NOTIFY_RETRY_BASE_SECONDS", "0")
    get_settings.cache_clear()
    yield webhook, smtp
    webhook.stop()
    smtp.stop()


@pytest.fixture
def store():
    s = open_store()
    yield s
    s.close()


@pytest.fixture
def now(monkeypatch):
    """A clock the test moves: `now.move(minutes)`."""

    class Clock:
        at = clock.now()

        def move(self, minutes: float) -> None:
            self.at += timedelta(minutes=minutes)

    fake = Clock()
    monkeypatch.setattr(clock, "now", lambda: fake.at)
    return fake


def report(store, tier="urgent", sender="rest:p"):
    turn = Turn(sender, "rest", tier, ["numbness"], "legs numb", clock.now().timestamp())
    return record(store, get_settings(), turn, source="action").escalation_id


def sent_to(store, escalation_id):
    return [n["notifier"] for n in store.get(escalation_id)["notifications"]]


def test_a_new_alert_goes_to_the_first_step_only(receivers, store):
    assert escalation_chain.chain(get_settings()) == ("webhook", "email")
    assert sent_to(store, report(store)) == ["webhook"]


def test_nobody_acknowledging_and_the_webhook_down_sends_it_to_email(receivers, store, now):
    webhook, smtp = receivers
    escalation_id = report(store)
    settings = get_settings()
    assert run_once(store, settings)["failed"] == 1  # the webhook is down
    now.move(settings.escalation_ack_minutes - 1)
    assert run_once(store, settings)["climbed"] == 0
    now.move(2)
    assert run_once(store, settings)["climbed"] == 1
    assert sent_to(store, escalation_id) == ["webhook", "email"]
    # run_once sends with the store's own clock; the fake clock's later moment is passed here
    assert notify.deliver_due(store, settings, now=now.at)["sent"] == 1
    assert len(smtp.messages) == 1 and "URGENT" in smtp.messages[0]
    now.move(settings.escalation_ack_minutes * 3)
    assert run_once(store, settings)["climbed"] == 0  # the chain has ended
    [row] = [r for r in audit.rows(store, escalation_id) if r["actor"] == "worker"]
    assert (row["action"], row["detail"]) == ("sent up the chain", "email")


def test_an_acknowledgement_stops_the_chain(receivers, store, now):
    escalation_id = report(store)
    alerts.acknowledge(store, escalation_id, "ana")
    now.move(get_settings().escalation_ack_minutes * 2)
    assert escalation_chain.climb(store, get_settings()) == 0
    assert sent_to(store, escalation_id) == ["webhook"]


def test_a_callback_request_does_not_climb(receivers, store, now):
    escalation_id = report(store, tier="callback")
    now.move(get_settings().escalation_ack_minutes * 2)
    assert escalation_chain.climb(store, get_settings()) == 0
    assert sent_to(store, escalation_id) == ["webhook"]


def test_without_a_chain_every_notifier_hears_at_once(receivers, store, monkeypatch):
    monkeypatch.delenv("ESCALATION_CHAIN")
    get_settings.cache_clear()
    assert sent_to(store, report(store)) == ["webhook", "email"]
    assert escalation_chain.climb(store, get_settings()) == 0


def test_webhook_then_the_on_call_sms_then_email_to_the_practice_manager(
    receivers, store, now, monkeypatch
):
    """The README's chain, each step a different notifier, with nobody acknowledging."""
    from tests.support.fake_twilio import FakeTwilio
    from tests.support.sms import ACCOUNT_SID, AUTH_TOKEN, CLINIC_NUMBER

    twilio = FakeTwilio().start()
    try:
        for name, value in {
            "ESCALATION_CHAIN": "webhook,sms,email",
            "NOTIFY_SMS_TO": "+15555550177",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": CLINIC_NUMBER,
            "TWILIO_API_BASE": twilio.url,
            "CLINIC_OPEN_HOURS": "",  # always open: no at-once SMS after hours
        }.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        settings = get_settings()
        _, smtp = receivers
        escalation_id = report(store)
        assert sent_to(store, escalation_id) == ["webhook"]
        for step in ("sms", "email"):
            now.move(settings.escalation_ack_minutes + 1)
            assert escalation_chain.climb(store, settings) == 1
            assert notify.deliver_due(store, settings, now=now.at)["sent"] == 1, step
        assert sent_to(store, escalation_id) == ["webhook", "sms", "email"]
        [text] = twilio.to("+15555550177")
        assert f"escalation #{escalation_id}" in text.body and "legs numb" not in text.body
        [mail] = smtp.messages
        assert "manager@clinic.example" in mail and "legs numb" not in mail
        steps = [r["detail"] for r in audit.rows(store, escalation_id) if r["actor"] == "worker"]
        assert steps == ["sms", "email"]
    finally:
        twilio.stop()
