"""Real servers for end-to-end tests: the Rasa server and the action server over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from bot.servers import Servers
from tests.support.fake_twilio import FakeTwilio
from tests.support.loopback import free_port
from tests.support.receivers import WebhookReceiver
from tests.support.servers import Client, LoggedServers, e2e_env


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
    env = e2e_env(db, action_port, webhook.url, twilio_api.url)
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
