import json

import pytest

from bot import notify
from bot.settings import get_settings
from bot.store import open_store
from tests.support.receivers import SmtpReceiver, WebhookReceiver

SECRET = "s3cret"


@pytest.fixture
def webhook(monkeypatch):
    receiver = WebhookReceiver().start()
    monkeypatch.setenv("NOTIFY_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("NOTIFY_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("NOTIFY_RETRY_BASE_SECONDS", "0")
    get_settings.cache_clear()
    yield receiver
    receiver.stop()


@pytest.fixture
def store():
    s = open_store()
    yield s
    s.close()


def escalate(store, key="k1"):
    return store.record(
        sender="rest:p",
        channel="rest",
        tier="urgent",
        symptoms=["fever"],
        message="fever of 102 and chills",
        event_key=key,
        source="action",
        notifiers=get_settings().notifiers,
    )


def test_webhook_is_signed_with_the_shared_secret_and_carries_no_message(webhook, store):
    escalate(store)
    assert notify.deliver_due(store, get_settings()) == {"sent": 1, "failed": 0, "not_sent": 0}
    [got] = webhook.received
    assert notify.verify(
        SECRET, got.headers["X-Clinic-Timestamp"], got.body, got.headers["X-Clinic-Signature"]
    )
    assert not notify.verify(
        "wrong", got.headers["X-Clinic-Timestamp"], got.body, got.headers["X-Clinic-Signature"]
    )
    payload = json.loads(got.body)
    assert payload["tier"] == "urgent" and payload["symptoms"] == ["fever"]
    assert "102" not in got.body.decode()


def test_delivery_is_retried_until_the_receiver_is_back_and_sent_once(webhook, store):
    escalate(store)
    webhook.stop()
    assert notify.deliver_due(store, get_settings())["failed"] == 1
    assert notify.deliver_due(store, get_settings())["failed"] == 1
    webhook.start()
    assert notify.deliver_due(store, get_settings())["sent"] == 1
    assert notify.deliver_due(store, get_settings()) == {"sent": 0, "failed": 0, "not_sent": 0}
    assert len(webhook.received) == 1
    row = store.get(1)["notifications"][0]
    assert row["attempts"] == 3 and row["delivered_at"]


def test_an_error_status_counts_as_a_failure(webhook, store):
    webhook.status = 503
    escalate(store)
    assert notify.deliver_due(store, get_settings())["failed"] == 1
    assert "503" in store.get(1)["notifications"][0]["last_error"]


def test_email_goes_through_smtp(monkeypatch, store):
    smtp = SmtpReceiver()
    monkeypatch.setenv("NOTIFY_EMAIL_TO", "nurse@clinic.example")
    monkeypatch.setenv("SMTP_PORT", str(smtp.port))
    get_settings.cache_clear()
    try:
        escalate(store)
        assert notify.deliver_due(store, get_settings())["sent"] == 1
        [message] = smtp.messages
        assert "URGENT" in message and "fever" in message and "102" not in message
    finally:
        smtp.stop()


def test_backoff_doubles_and_is_capped():
    assert [notify.backoff(n, 5, 60) for n in (1, 2, 3, 4, 5)] == [5, 10, 20, 40, 60]


def test_no_notifier_configured_means_none_queued(store):
    escalate(store)
    assert store.pending_count() == 0
    assert store.list("open")
