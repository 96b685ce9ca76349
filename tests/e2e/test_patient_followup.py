"""The patient follow-up in an open website chat, end to end: the real Rasa server, action
server and worker (`python -m bot serve`'s three processes), a real socket.io client. A
warning sign nobody acknowledges gets, once its alert has waited PATIENT_FOLLOWUP_MINUTES,
"we are still trying to reach you" in the chat, kept in the conversation's history."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any, Dict, List, Optional

import pytest

from bot import clock
from bot.replies import patient_still_trying
from bot.store import iso
from tests.support.profiles import query
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.model]

RED_FLAG = "my legs went numb an hour ago and I can't feel my feet"


def _query(env: Dict[str, str], sql: str, *args: Any) -> List[Any]:
    """Rows as tuples on the servers' database (the SQLite file, or DATABASE_URL)."""
    return [tuple(row.values()) for row in query(sql, args, env=env)]


def _backdate(env: Dict[str, str], conversation: str) -> Optional[int]:
    """The conversation's alert, made to look an hour old (the worker's clock is real)."""
    found = _query(env, "select id from escalations where sender = ?", conversation)
    if not found:
        return None
    an_hour_ago = iso(clock.now() - timedelta(hours=1))
    _query(env, "update escalations set created_at = ? where id = ?", an_hour_ago, found[0][0])
    return int(found[0][0])


async def _red_flag_then_wait(base: str, env: Dict[str, str]) -> Dict[str, Any]:
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    loop = asyncio.get_running_loop()
    confirmed: asyncio.Future = loop.create_future()
    shown: List[Dict[str, Any]] = []
    client.on("session_confirm", lambda data: confirmed.set_result(data["session_id"]))
    client.on("bot_uttered", lambda data: shown.append(data))
    await client.connect(base, socketio_path="/webhooks/web/socket.io", transports=["polling"])
    try:
        await client.emit("session_request", {})
        conversation = "web:" + await asyncio.wait_for(confirmed, 30)
        await asyncio.to_thread(wait_until, lambda: shown, 30)  # the greeting: the chat is open
        await client.emit("user_uttered", {"message": RED_FLAG})
        escalation_id = await asyncio.to_thread(
            wait_until, lambda: _backdate(env, conversation), 90
        )
        followed_up = await asyncio.to_thread(
            wait_until, lambda: [m for m in shown if m["text"] == patient_still_trying()], 60
        )
        return {
            "conversation": conversation,
            "escalation_id": escalation_id,
            "followed_up": followed_up,
            "shown": list(shown),
        }
    finally:
        await client.eio.disconnect(abort=True)  # a clean polling disconnect waits ~30 s


def test_an_unacknowledged_warning_sign_gets_a_message_in_the_open_chat(servers):
    env = servers.env
    base = f"http://127.0.0.1:{servers.rasa_port}"
    result = asyncio.run(_red_flag_then_wait(base, env))
    assert len(result["followed_up"]) == 1
    [(notifier, error)] = _query(
        env,
        "select o.notifier, a.error from outbox o join notification_attempts a "
        "on a.outbox_id = o.id where o.escalation_id = ? and o.notifier like 'patient%'",
        result["escalation_id"],
    )
    assert notifier == "patient_web" and not error
    said = [
        json.loads(data).get("text")
        for (data,) in _query(
            env,
            "select data from events where sender_id = ? and type_name = 'bot' order by id",
            result["conversation"],
        )
    ]
    assert patient_still_trying() in said  # kept in the history (and on the alert page)
    audited = _query(
        env, "select action from audit_log where escalation_id = ?", result["escalation_id"]
    )
    assert ("patient messaged in the web chat: still trying",) in audited
    assert RED_FLAG not in servers.log.read_text()  # message text is never logged
