"""Shared fixtures: a fresh database per test, the domain, and sdk trackers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.settings import PROJECT_ROOT, get_settings


def pytest_configure(config: pytest.Config) -> None:
    """Rasa's structlog prints parsed messages at DEBUG unless configured: keep it at WARNING."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)


@pytest.fixture(autouse=True)
def fresh_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own empty SQLite file and default clinic settings."""
    monkeypatch.setenv("ASSISTANT_DB", str(tmp_path / "assistant.db"))
    for name in (
        "CLINIC_NAME",
        "CLINIC_PHONE",
        "CLINIC_HOURS",
        "AFTER_HOURS_PHONE",
        "FEVER_THRESHOLD",
        "REST_CHANNEL_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    """domain.yml as plain data."""
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def user_event(
    intent: str,
    text: str = "",
    faq_key: Optional[str] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
) -> Dict[str, Any]:
    """A user event as the action server receives it."""
    parse: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
    }
    if faq_key:
        parse["response_selector"] = {
            "faq": {"response": {"intent_response_key": f"faq/{faq_key}"}}
        }
    return {"event": "user", "text": text, "parse_data": parse}


def make_tracker(events: List[Dict[str, Any]], slots: Optional[Dict[str, Any]] = None) -> Tracker:
    """An sdk Tracker whose latest message is the last user event."""
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {})
    return Tracker(
        sender_id="test",
        slots=slots or {},
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name=None,
    )


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


def full_intent(parse: Dict[str, Any]) -> str:
    """`faq/ice_pack` for retrieval intents, the plain intent name otherwise."""
    name = (parse.get("intent") or {}).get("name") or ""
    selected = (parse.get("response_selector") or {}).get(name)
    if selected:
        return selected["response"]["intent_response_key"] or name
    return name


def parse_all(agent: Any, texts: List[str]) -> List[Dict[str, Any]]:
    """Parse many messages on one event loop."""
    import asyncio

    async def run() -> List[Dict[str, Any]]:
        return [await agent.parse_message(t) for t in texts]

    return asyncio.run(run())
