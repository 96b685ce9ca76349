"""The action server, started as `python -m bot serve` starts it, over real HTTP:
only the Rasa server (which holds the shared secret) may run actions."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

import pytest

from bot.servers import action_server_command, server_env, wait_for
from bot.settings import PROJECT_ROOT
from tests.support.loopback import free_port
from tests.support.profiles import has_table, query

FORGED_NUMBER = "+15555550142"


def escalate_call(sender: str) -> bytes:
    """What the Rasa server posts to run action_escalate after a red-flag turn."""
    user = {
        "event": "user",
        "timestamp": time.time(),
        "text": "I can't move my legs",
        "input_channel": "rest",
        "parse_data": {
            "text": "I can't move my legs",
            "intent": {"name": "report_symptom", "confidence": 1.0},
            "entities": [
                {"entity": "symptom", "value": "weakness"},
                {"entity": "red_flag_tier", "value": "emergency"},
            ],
        },
    }
    tracker = {
        "sender_id": sender,
        "slots": {"callback_number": FORGED_NUMBER},
        "latest_message": user["parse_data"],
        "events": [user],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": None,
    }
    return json.dumps(
        {
            "next_action": "action_escalate",
            "sender_id": sender,
            "tracker": tracker,
            "domain": {},
            "version": "3.6.21",
        }
    ).encode()


def post(port: int, body: bytes, auth: Optional[str]) -> Tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if auth is not None:
        headers["Authorization"] = auth
    request = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", body, headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def escalations(env: Dict[str, str]) -> list:
    """The escalations in the database the server's environment names (SQLite or PostgreSQL)."""
    if not has_table("escalations", env):  # no table yet: nothing was ever recorded
        return []
    return [row["sender"] for row in query("select sender from escalations", env=env)]


@pytest.fixture
def action_server(tmp_path: Path) -> Iterator[Dict[str, object]]:
    port = free_port()
    db = tmp_path / "actions.db"
    env = server_env(port, {"ASSISTANT_DB": str(db), "ACTION_SERVER_SECRET": "s3cret-for-tests"})
    env.pop("ACTION_SERVER_INTERFACE", None)
    process = subprocess.Popen(
        action_server_command(port),
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", 120, process)
        yield {"port": port, "env": env, "secret": "s3cret-for-tests"}
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_an_unauthenticated_action_call_gets_401_and_changes_nothing(action_server):
    port, env, secret = action_server["port"], action_server["env"], action_server["secret"]
    for auth in (None, "Bearer wrong", f"Bearer {secret}x", secret, f"Basic {secret}"):
        status, _ = post(port, escalate_call("rest:stranger"), auth)
        assert status == 401, auth
    assert escalations(env) == []
    # the same call with the secret is what the Rasa server makes: it does record
    status, body = post(port, escalate_call("rest:patient"), f"Bearer {secret}")
    assert status == 200, body
    assert escalations(env) == ["rest:patient"]


def test_the_action_list_needs_the_secret_and_health_does_not(action_server):
    port = action_server["port"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/actions", timeout=10)
    assert refused.value.code == 401
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as reply:
        assert reply.status == 200


def _outside_address() -> Optional[str]:
    """An address of this machine that is not loopback, if it has one."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def test_it_listens_on_loopback_only(action_server):
    address = _outside_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    with pytest.raises(OSError):
        socket.create_connection((address, action_server["port"]), timeout=3).close()


def test_without_a_secret_it_refuses_to_start(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "ACTION_SERVER_SECRET"}
    env.update(ASSISTANT_DB=str(tmp_path / "a.db"), PYTHONPATH=str(PROJECT_ROOT))
    done = subprocess.run(
        action_server_command(free_port()),
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "ACTION_SERVER_SECRET" in done.stdout + done.stderr
