"""A message from the worker to an open website chat, with no model: the real web channel
on a real Sanic server, a real socket.io client in the chat, the worker's real HTTP push
and the patient follow-up notifier through the outbox."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import replace
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from sanic import Sanic

from bot import alerts, notify
from bot.channels import web_push
from bot.channels.web import SOCKETIO_PATH, WebInput
from bot.escalations import Turn, record
from bot.replies import patient_still_trying
from bot.settings import get_settings
from bot.staff import StaffServer
from bot.store import get_store, open_store
from tests.support.loopback import free_port

SECRET = "push-secret-0123456789"


async def _no_messages(message: Any) -> None:
    raise AssertionError("no patient message is sent in these tests")


@pytest.fixture
def chat(monkeypatch) -> Iterator[str]:
    """The web channel's blueprint on a Sanic server, as Rasa mounts it (no agent)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("WEB_PUSH_SECRET", SECRET)
    monkeypatch.setenv("WEB_PUSH_URL", f"{base}/webhooks/web/push")
    get_settings.cache_clear()
    app = Sanic(f"web_push_test_{port}", configure_logging=False)
    app.config.MOTD = False
    channel = WebInput()
    app.blueprint(channel.blueprint(_no_messages), url_prefix="/webhooks/web")
    server = StaffServer(app, "127.0.0.1", port).start()
    yield base
    server.shutdown()


async def _in_chat(base: str, work: Any) -> Tuple[Any, List[Dict[str, Any]]]:
    """Open a chat, run `work(conversation id)` in a thread, return its result and what the
    chat showed meanwhile."""
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    shown: List[Dict[str, Any]] = []
    arrived = asyncio.Event()
    client.on("session_confirm", lambda data: confirmed.set_result(data["session_id"]))
    client.on("bot_uttered", lambda data: (shown.append(data), arrived.set()))
    await client.connect(base, socketio_path=SOCKETIO_PATH, transports=["polling"])
    try:
        await client.emit("session_request", {})
        conversation = "web:" + await asyncio.wait_for(confirmed, 10)
        result = await asyncio.to_thread(work, conversation)
        if result:
            await asyncio.wait_for(arrived.wait(), 10)
        return result, shown
    finally:
        # a polling client's clean disconnect waits out the long poll (about 30 s)
        await client.eio.disconnect(abort=True)


def post(base: str, body: Dict[str, Any], secret: str = SECRET) -> Tuple[int, Dict[str, Any]]:
    request = urllib.request.Request(
        f"{base}/webhooks/web/push",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_open_chat_shows_the_message(chat):
    sockets, shown = asyncio.run(
        _in_chat(chat, lambda c: web_push.push(get_settings(), c, "patient_still_trying"))
    )
    assert sockets == 1
    assert shown == [{"text": patient_still_trying(), "quick_replies": []}]


def test_a_chat_that_is_not_open_is_told_apart_from_an_error(chat):
    with pytest.raises(web_push.PushError) as closed:
        web_push.push(get_settings(), "web:" + "A" * 32, "patient_still_trying")
    assert closed.value.not_open and "not open" in str(closed.value)


def test_a_wrong_channel_message_or_secret_fails_loudly(chat):
    settings = get_settings()
    for conversation in ("sms:+15555550142", "rest:abc", "web:", ""):
        with pytest.raises(web_push.PushError, match="not a website chat"):
            web_push.push(settings, conversation, "patient_still_trying")
    with pytest.raises(web_push.PushError, match="no message called"):
        web_push.push(settings, "web:abc", "anything I like")
    # the channel itself refuses the same, whoever asks
    assert (
        post(chat, {"conversation_id": "sms:+15555550142", "message": "patient_still_trying"})[0]
        == 400
    )
    assert post(chat, {"conversation_id": "web:abc", "message": "free text"})[0] == 400
    assert (
        post(chat, {"conversation_id": "web:abc", "message": "patient_still_trying"}, "x")[0] == 401
    )
    with pytest.raises(web_push.PushError) as refused:
        web_push.push(
            replace(settings, web_push_secret="another"), "web:abc", "patient_still_trying"
        )
    assert "401" in str(refused.value) and not refused.value.not_open
    with pytest.raises(web_push.PushError, match="WEB_PUSH_URL"):
        web_push.push(replace(settings, web_push_url=None), "web:abc", "patient_still_trying")


def test_the_channel_without_a_secret_takes_no_push(chat, monkeypatch):
    monkeypatch.delenv("WEB_PUSH_SECRET")
    get_settings.cache_clear()
    assert post(chat, {"conversation_id": "web:abc", "message": "patient_still_trying"})[0] == 404


def _follow_up_through_the_outbox(conversation: str) -> Dict[str, int]:
    """An alert of the conversation with its follow-up due, and the worker's delivery;
    runs in a thread beside the chat, so with its own connection."""
    store, settings = open_store(), get_settings()
    turn = Turn(conversation, "web", "urgent", ["numbness"], "legs numb", 1000.0)
    escalation_id = record(store, settings, turn, source="action").escalation_id
    with store.transaction() as conn:
        conn.execute(
            "insert into outbox (escalation_id, notifier, reason, created_at, attempts, "
            "next_attempt_at) values (?, 'patient_web', 'patient follow-up', "
            "'2000-01-01T00:00:00+00:00', 0, '2000-01-01T00:00:00+00:00')",
            [escalation_id],
        )
    try:
        return {**notify.deliver_due(store, settings), "escalation_id": escalation_id}
    finally:
        store.close()


def test_the_follow_up_reaches_an_open_chat_and_is_not_sent_to_a_closed_one(chat):
    delivered, shown = asyncio.run(_in_chat(chat, _follow_up_through_the_outbox))
    assert delivered["sent"] == 1 and shown[0]["text"] == patient_still_trying()
    [attempt] = alerts.attempts(get_store(), delivered["escalation_id"])
    assert attempt["ok"] and not attempt["error"]

    closed = _follow_up_through_the_outbox("web:" + "B" * 32)
    assert closed["not_sent"] == 1
    [attempt] = alerts.attempts(get_store(), closed["escalation_id"])
    assert attempt["ok"] and attempt["error"] == "not sent: the chat was not open"
    assert notify.deliver_due(get_store(), get_settings())["not_sent"] == 0  # not retried
