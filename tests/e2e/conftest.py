"""Real servers for end-to-end tests: the Rasa server and the action server over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest

from bot.servers import Servers
from tests.support import profiles
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
def servers_database(request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """Makes the DATABASE_URL for servers that outlive one test: none (their SQLite file) on
    the SQLite run; on the PostgreSQL run (TEST_DATABASE=postgresql) a new database of their
    own each call, as each test gets one (tests/conftest.py), dropped at the end."""
    made: List[str] = []
    postgres: Any = request.getfixturevalue("postgres_server") if profiles.on_postgresql() else None

    def new() -> str:
        if postgres is None:
            return ""
        made.append(postgres.new_database("e2e"))
        return made[-1]

    yield new
    for url in made:
        postgres.drop_database(url)


@pytest.fixture(scope="session")
def servers(
    trained_model: Path,
    tmp_path_factory: pytest.TempPathFactory,
    webhook: WebhookReceiver,
    twilio_api: FakeTwilio,
    servers_database: Callable[[], str],
) -> Iterator[Servers]:
    """Rasa server, action server and worker, as `python -m bot serve` runs them, on the
    profile's database (an SQLite file, or PostgreSQL with TEST_DATABASE=postgresql)."""
    db = tmp_path_factory.mktemp("e2e") / "assistant.db"
    action_port = free_port()
    env = e2e_env(
        db, action_port, webhook.url, twilio_api.url, {"DATABASE_URL": servers_database()}
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
