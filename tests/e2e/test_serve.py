"""`python -m bot serve` keeps its servers running: a child that dies is started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Dict

import pytest

from bot.servers import server_env, wait_for
from bot.settings import PROJECT_ROOT
from tests.support.loopback import free_port
from tests.support.profiles import query
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.model]

CHILDREN = {"bot.action_server": "actions", "rasa run": "rasa", "bot worker": "worker"}


def children(pid: int) -> Dict[str, int]:
    """The serve process's children by role."""
    found: Dict[str, int] = {}
    listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in map(int, listed):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except FileNotFoundError:
            continue
        for needle, role in CHILDREN.items():
            if needle in command:
                found[role] = child
    return found


def test_a_killed_action_server_comes_back_and_the_others_keep_running(trained_model, tmp_path):
    rasa_port, action_port, staff_port = free_port(), free_port(), free_port()
    env = server_env(
        action_port,
        {"ASSISTANT_DB": str(tmp_path / "serve.db"), "STAFF_PORT": str(staff_port)},
    )
    env.pop("ACTION_SERVER_SECRET")  # serve makes its own up
    log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "serve",
            "--no-train",
            "--port",
            str(rasa_port),
            "--action-port",
            str(action_port),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{rasa_port}/webhooks/rest/", 300, serve)
        before = wait_until(lambda: len(children(serve.pid)) == 3 and children(serve.pid))
        os.kill(before["actions"], signal.SIGKILL)
        after = wait_until(
            lambda: (c := children(serve.pid)).get("actions") not in (None, before["actions"])
            and c,
            seconds=120,
        )
        wait_for(f"http://127.0.0.1:{action_port}/health", 120)
        assert after["rasa"] == before["rasa"] and after["worker"] == before["worker"]
        # the assistant still works end to end: the new action server has the same secret
        body = b'{"sender": "serve-1", "message": "i want to talk to an actual person please"}'
        request = urllib.request.Request(
            f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
            body,
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            assert reply.status == 200
        # on the database the servers run on: the SQLite file, or DATABASE_URL
        senders = [row["sender"] for row in query("select sender from escalations", env=env)]
        assert senders == ["rest:serve-1"]  # recorded by action_request_callback
        assert "starting it again" in (tmp_path / "serve.log").read_text()
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
        log.close()
