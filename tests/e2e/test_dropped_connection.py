"""A message that reached the server is processed to the end, even when its client has gone."""

from __future__ import annotations

import asyncio
import http.client
import json
import signal
import socket
import subprocess
import uuid
from typing import Iterator, List, Tuple

import pytest
import sqlalchemy as sa

from bot.servers import action_server_command, wait_for
from bot.settings import PROJECT_ROOT
from tests.support.loopback import free_port
from tests.support.profiles import missing_table, query
from tests.support.slow_proxy import SlowProxy
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.model]

RED_FLAG = "my legs went numb an hour ago and I can't feel my feet"


def give_up_after(port: int, sender: str, seconds: float) -> None:
    """Post a message, wait `seconds` for the answer, then hang up as a phone on a weak
    network would."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds)
    try:
        conn.request(
            "POST",
            "/webhooks/rest/webhook",
            json.dumps({"sender": sender, "message": RED_FLAG}),
            {"Content-Type": "application/json"},
        )
        with pytest.raises(socket.timeout):
            conn.getresponse()
    finally:
        conn.close()


def escalations(servers, conversation: str) -> List[Tuple[str, str]]:
    """(tier, source) of the conversation's escalations, on the servers' database."""
    rows = query(
        "select tier, source from escalations where sender = ?", [conversation], env=servers.env
    )
    return [(row["tier"], row["source"]) for row in rows]


def events(servers, conversation: str) -> List[Tuple[str, str]]:
    """(type, action) of the conversation's stored events, on the servers' database."""
    try:
        rows = query(
            "select type_name, coalesce(action_name, '') as action from events "
            "where sender_id = ? order by id",
            [conversation],
            env=servers.env,
        )
    except sa.exc.DBAPIError as error:
        if not missing_table(error):
            raise
        return []  # the events table is not created yet
    return [(row["type_name"], row["action"]) for row in rows]


def the_turn_was_stored(servers, conversation: str) -> bool:
    found = events(servers, conversation)
    advice = {("action", "utter_red_flag_urgent"), ("action", "utter_red_flag_emergency")}
    return ("user", "") in found and bool(advice & set(found))


def test_a_red_flag_sent_while_the_server_was_busy_is_escalated_after_its_client_left(servers):
    me = "drop-" + uuid.uuid4().hex[:10]
    rasa = servers.processes["rasa"]
    rasa.send_signal(signal.SIGSTOP)  # busy: its event loop runs nothing for a while
    try:
        give_up_after(servers.rasa_port, me, 2)
    finally:
        rasa.send_signal(signal.SIGCONT)
    wait_until(lambda: the_turn_was_stored(servers, f"rest:{me}"), seconds=60)
    [(tier, _)] = wait_until(lambda: escalations(servers, f"rest:{me}"), seconds=60)
    assert tier in ("urgent", "emergency")


@pytest.fixture
def slow_action_server(servers) -> Iterator[SlowProxy]:
    """The action server behind a proxy that holds each call for 6 s."""
    servers.stop("actions")
    port = free_port()
    real = subprocess.Popen(
        action_server_command(port),
        cwd=PROJECT_ROOT,
        env=servers.env,
        stdout=servers.out,
        stderr=subprocess.STDOUT,
    )
    proxy = None
    try:
        wait_for(f"http://127.0.0.1:{port}/health", 120, real)
        proxy = SlowProxy(servers.action_port, f"http://127.0.0.1:{port}", 6).start()
        yield proxy
    finally:
        if proxy:
            proxy.stop()
        real.terminate()
        real.wait(timeout=30)
        servers.start_actions()


def test_a_client_that_leaves_during_the_escalation_leaves_the_whole_turn_stored(
    servers, slow_action_server
):
    me = "drop-" + uuid.uuid4().hex[:10]
    give_up_after(servers.rasa_port, me, 2)
    assert slow_action_server.held >= 1
    wait_until(lambda: the_turn_was_stored(servers, f"rest:{me}"), seconds=60)
    assert ("action", "action_escalate") in events(servers, f"rest:{me}")
    [(tier, _)] = wait_until(lambda: escalations(servers, f"rest:{me}"), seconds=60)
    assert tier in ("urgent", "emergency")


async def _web_red_flag_then_leave(base: str) -> str:
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    loop = asyncio.get_running_loop()
    confirmed: asyncio.Future = loop.create_future()
    greeted: asyncio.Future = loop.create_future()
    client.on("session_confirm", lambda data: confirmed.set_result(data["session_id"]))
    client.on("bot_uttered", lambda data: greeted.done() or greeted.set_result(data))
    await client.connect(base, socketio_path="/webhooks/web/socket.io", transports=["polling"])
    try:
        await client.emit("session_request", {})
        session = await asyncio.wait_for(confirmed, 30)
        await asyncio.wait_for(greeted, 60)
        await client.emit("user_uttered", {"message": RED_FLAG})
        await asyncio.sleep(1)  # the turn is waiting for the (slow) escalation action
    finally:
        await client.disconnect()  # the phone's connection drops
    return session


def test_a_web_chat_that_drops_during_the_escalation_leaves_the_whole_turn_stored(
    servers, slow_action_server
):
    base = f"http://127.0.0.1:{servers.rasa_port}"
    session = asyncio.run(_web_red_flag_then_leave(base))
    wait_until(lambda: the_turn_was_stored(servers, f"web:{session}"), seconds=60)
    assert ("action", "action_escalate") in events(servers, f"web:{session}")
    [(tier, _)] = wait_until(lambda: escalations(servers, f"web:{session}"), seconds=60)
    assert tier in ("urgent", "emergency")
