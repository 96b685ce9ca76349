"""Real servers for end-to-end tests: the Rasa server and the action server over HTTP."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from bot.servers import Servers, server_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


@pytest.fixture(scope="session")
def servers(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    db = tmp_path_factory.mktemp("e2e") / "assistant.db"
    action_port = free_port()
    running = Servers(free_port(), action_port, server_env(action_port, {"ASSISTANT_DB": str(db)}))
    try:
        running.start_actions()
        running.start_rasa()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def client(servers: Servers) -> Client:
    return Client(servers.rasa_port)
