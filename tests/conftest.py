"""Shared fixtures: a fresh database per test, the domain, the trained model.

Helpers that tests import live in tests/support/, not here."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot.settings import get_settings
from tests.support import profiles


def pytest_configure(config: pytest.Config) -> None:
    """Rasa's structlog prints parsed messages at DEBUG unless configured: keep it at WARNING.
    The known third-party warnings are filtered, here and in the servers tests start."""
    import logging

    from bot import warnings_filter

    for line in warnings_filter.pytest_filters():
        config.addinivalue_line("filterwarnings", line)
    warnings_filter.install()

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)

    # Each start of a Sanic app rewrites Sanic's protocol methods (its "TouchUp"), which works
    # once per process unless in test mode. The worker starts one staff app; tests start one
    # per test, so they run in test mode, as Sanic's own test client does.
    from sanic import Sanic

    Sanic.test_mode = True


@pytest.fixture(autouse=True)
def fresh_settings(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Every test gets its own empty SQLite file and default clinic settings.

    TEST_DATABASE=postgresql gives every test an empty PostgreSQL database of its own as
    DATABASE_URL instead, so the tests that open the store by settings (`get_store()`) run
    on PostgreSQL: `TEST_DATABASE=postgresql make test-one T=tests/bot/checkins`. A test about
    one profile only is marked so (tests/support/profiles.py)."""
    monkeypatch.setenv("ASSISTANT_DB", str(tmp_path / "assistant.db"))
    for name in (
        "CLINIC_NAME",
        "CLINIC_PHONE",
        "CLINIC_HOURS",
        "AFTER_HOURS_PHONE",
        "FEVER_THRESHOLD",
        "REST_CHANNEL_TOKEN",
        "DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    on_postgres = profiles.on_postgresql()
    if on_postgres:
        monkeypatch.setenv("DATABASE_URL", request.getfixturevalue("postgres_url"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    if on_postgres:
        from bot import store
        from bot.storage.sql import dispose_engines

        store._stores.clear()
        dispose_engines()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """A PostgreSQL server for the session (tests/support/postgres.py): skipped when it cannot
    be started, unless CI or REQUIRE_POSTGRES=1 is set, then failed."""
    from tests.support import postgres

    yield postgres.session_server()
    postgres.stop_session_server()


@pytest.fixture
def postgres_url(postgres_server: Any) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database of its own for this test (dropped after)."""
    url = str(postgres_server.new_database())
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    """The merged domain as plain data: domain.yml and the answers in data/responses/."""
    from bot.content import load_domain

    return load_domain()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The trained model; `make test` trains it first when stale."""
    from bot.model import MODEL_PATH, is_stale

    if not MODEL_PATH.exists():
        pytest.fail(f"no trained model at {MODEL_PATH}: run `make train` first")
    if is_stale() and not os.environ.get("ALLOW_STALE_MODEL"):
        pytest.fail(
            "the model is older than its training data: run `make train` "
            "(ALLOW_STALE_MODEL=1 lets a developer iterate without retraining)"
        )
    return MODEL_PATH


@pytest.fixture(scope="session")
def agent(trained_model: Path) -> Any:
    """The trained model loaded in this process (NLU parsing only)."""
    import asyncio

    from rasa.core.agent import load_agent

    return asyncio.run(load_agent(model_path=str(trained_model)))
