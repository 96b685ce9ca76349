"""Real servers for end-to-end tests: the Rasa server and the action server over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from bot.servers import Servers, server_env
from tests.support.fake_twilio import FakeTwilio
from tests.support.loopback import free_port
from tests.support.receivers import WebhookReceiver
from tests.support.servers import (
    SMS_REPLY_TIMEOUT_SECONDS,
    STAFF_TOKEN,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM_NUMBER,
    TWILIO_WEBHOOK_URL,
    WEBHOOK_SECRET,
    Client,
    LoggedServers,
)


@pytest.fixture(scope="session")
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def twilio_api() -> Iterator[FakeTwilio]:
    """A fake Twilio Messages API: where the servers' outbound texts go."""
    api = FakeTwilio().start()
    yield api
    api.stop()


@pytest.fixture(scope="session")
def servers(
    trained_model: Path,
    tmp_path_factory: pytest.TempPathFactory,
    webhook: WebhookReceiver,
    twilio_api: FakeTwilio,
) -> Iterator[Servers]:
    """Rasa server, action server and worker, as `python -m bot serve` runs them."""
    db = tmp_path_factory.mktemp("e2e") / "assistant.db"
    action_port = free_port()
    env = server_env(
        action_port,
        {
            "ASSISTANT_DB": str(db),
            "NOTIFY_WEBHOOK_URL": webhook.url,
            "NOTIFY_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STAFF_TOKEN": STAFF_TOKEN,
            "STAFF_PORT": str(free_port()),
            "WORKER_POLL_SECONDS": "0.3",
            "NOTIFY_RETRY_BASE_SECONDS": "0.5",
            "NOTIFY_RETRY_MAX_SECONDS": "1",
            "RECONCILE_GRACE_SECONDS": "3",
            "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": TWILIO_FROM_NUMBER,
            "TWILIO_WEBHOOK_URL": TWILIO_WEBHOOK_URL,
            "TWILIO_API_BASE": twilio_api.url,
            "SMS_REPLY_TIMEOUT_SECONDS": str(SMS_REPLY_TIMEOUT_SECONDS),
            "SMS_SKIP_SIGNATURE_CHECK": "0",
        },
    )
    log = db.parent / "servers.log"
    running = LoggedServers(free_port(), action_port, env)
    with log.open("w", buffering=1) as out:
        running.out = out
        try:
            running.start_actions()
            running.start_worker()
            running.start_rasa()
            running.log = log  # type: ignore[attr-defined]
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="session")
def client(servers: Servers) -> Client:
    return Client(servers.rasa_port)
