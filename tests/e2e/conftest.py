"""Real servers for end-to-end tests: the Rasa server and the action server over HTTP."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from bot.servers import Servers, server_env
from tests.support.receivers import WebhookReceiver, free_port


class Client:
    """Talks to the REST channel as any HTTP client would."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"

    def send(self, sender: str, message: Any) -> List[Dict[str, Any]]:
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as reply:
            assert reply.status == 200
            return json.loads(reply.read())

    def text(self, sender: str, message: Any) -> str:
        return "\n".join(m.get("text") or "" for m in self.send(sender, message))


WEBHOOK_SECRET = "e2e-webhook-secret"
STAFF_TOKEN = "e2e-staff-token"


@pytest.fixture(scope="session")
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def servers(
    trained_model: Path, tmp_path_factory: pytest.TempPathFactory, webhook: WebhookReceiver
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
        },
    )
    log = db.parent / "servers.log"
    running = Servers(free_port(), action_port, env)
    with log.open("w") as out:
        try:
            running.start_actions(stdout=out, stderr=subprocess.STDOUT)
            running.start_worker(stdout=out, stderr=subprocess.STDOUT)
            running.start_rasa(stdout=out, stderr=subprocess.STDOUT)
            running.log = log  # type: ignore[attr-defined]
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="session")
def client(servers: Servers) -> Client:
    return Client(servers.rasa_port)
