"""The scale-out layout end to end (bot/cluster.py): PostgreSQL, Redis, nginx, two Rasa servers,
two action servers and a worker, as `python -m bot serve --replicas 2` runs them.

One cluster for the module (about a minute to start). Skipped without PostgreSQL, Redis or nginx
on a developer's machine; failing when CI or REQUIRE_CLUSTER=1 is set (.ci/run installs them).
Select them with `pytest -m cluster`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import psycopg2
import pytest

from bot.cluster import Cluster, Ports, binaries
from bot.settings import get_settings
from bot.store import get_store
from tests.e2e.test_sms import Sms, patient, sms_variant
from tests.support.fake_twilio import FakeTwilio
from tests.support.loopback import free_port
from tests.support.receivers import WebhookReceiver
from tests.support.redis import required
from tests.support.servers import (
    SMS_REPLY_TIMEOUT_SECONDS,
    STAFF_TOKEN,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM_NUMBER,
    TWILIO_WEBHOOK_URL,
    WEBHOOK_SECRET,
    Client,
)
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.model, pytest.mark.cluster]

API_TOKEN = "cluster-api-token"


@pytest.fixture(scope="module")
def cluster(
    trained_model: Path,
    tmp_path_factory: pytest.TempPathFactory,
    webhook: WebhookReceiver,
    twilio_api: FakeTwilio,
) -> Iterator[Cluster]:
    try:
        binaries()
    except FileNotFoundError as missing:
        if required("cluster"):
            pytest.fail(f"{missing}; REQUIRE_CLUSTER or CI is set")
        pytest.skip(str(missing))
    ports = Ports(
        public=free_port(),
        rasa=(free_port(), free_port()),
        actions_proxy=free_port(),
        actions=(free_port(), free_port()),
        staff=free_port(),
        postgres=free_port(),
        redis=free_port(),
    )
    running = Cluster(
        2,
        directory=tmp_path_factory.mktemp("cluster"),
        ports=ports,
        model=trained_model,
        extra_env={
            "NOTIFY_WEBHOOK_URL": webhook.url,
            "NOTIFY_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STAFF_TOKEN": STAFF_TOKEN,
            "WORKER_POLL_SECONDS": "0.3",
            "NOTIFY_RETRY_BASE_SECONDS": "0.5",
            "NOTIFY_RETRY_MAX_SECONDS": "1",
            "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": TWILIO_FROM_NUMBER,
            "TWILIO_WEBHOOK_URL": TWILIO_WEBHOOK_URL,
            "TWILIO_API_BASE": twilio_api.url,
            "SMS_REPLY_TIMEOUT_SECONDS": str(SMS_REPLY_TIMEOUT_SECONDS),
        },
        rasa_args=["--enable-api", "--auth-token", API_TOKEN],
    )
    running.start()
    yield running
    running.stop()


@pytest.fixture
def project_store(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The project's store as the cluster's servers have it (bot.store.get_store, whichever
    database the settings name)."""
    env = cluster.env()
    for name in ("ASSISTANT_DB", "DATABASE_URL"):
        monkeypatch.setenv(name, env[name])
    get_settings.cache_clear()
    return get_store()


def sender() -> str:
    return "cl-" + uuid.uuid4().hex[:10]


def events(cluster: Cluster, conversation: str, replica: int = 0) -> List[Dict[str, Any]]:
    """The conversation's tracker, read back through a Rasa server's HTTP API."""
    url = f"{cluster.rasa_url(replica)}/conversations/{conversation}/tracker?token={API_TOKEN}"
    with urllib.request.urlopen(url, timeout=30) as reply:
        return list(json.loads(reply.read())["events"])


def test_the_assistant_answers_through_nginx_and_keeps_the_conversation_in_postgresql(
    cluster: Cluster,
) -> None:
    me = sender()
    public = Client(cluster.layout.public)
    answer = public.text(me, "how do I use ice packs?")
    assert "ice" in answer.lower()
    # each Rasa server gives the same answer to the same question
    for port in cluster.layout.rasa:
        assert Client(port).text(sender(), "how do I use ice packs?") == answer
    with psycopg2.connect(cluster.database_url) as db, db.cursor() as cursor:
        cursor.execute("select count(*) from events where sender_id = %s", (f"rest:{me}",))
        (stored,) = cursor.fetchone()
    assert stored > 0
    # the Rasa servers run with the generated endpoints file, not endpoints.yml
    generated = cluster.directory / "endpoints.postgresql-redis.yml"
    assert "bot.lock_store.AtomicRedisLockStore" in generated.read_text()


def test_a_red_flag_through_nginx_is_escalated(cluster: Cluster, project_store: Any) -> None:
    me = sender()
    reply = Client(cluster.layout.public).text(
        me, "my legs went numb this morning and its getting worse"
    )
    assert get_settings().clinic_phone in reply and "sent this to the care team" in reply
    [row] = wait_until(lambda: [r for r in project_store.list() if r["sender"] == f"rest:{me}"])
    assert row["tier"] == "urgent" and "numbness" in row["symptoms"]


def test_a_red_flag_by_sms_and_twilios_retry_on_the_other_server_escalate_once(
    cluster: Cluster, project_store: Any
) -> None:
    me = patient()
    red_flag = "my legs went numb this morning and its getting worse"
    sid = "SM" + uuid.uuid4().hex
    reply = Sms(cluster.layout.public).texts(me, red_flag, sid=sid)
    assert sms_variant("utter_red_flag_urgent") in "\n\n".join(reply)
    # Twilio sends the same message again (same MessageSid), and it lands on the other server
    for port in cluster.layout.rasa:
        assert Sms(port).texts(me, red_flag, sid=sid) == reply
    [row] = wait_until(lambda: [r for r in project_store.list() if r["sender"] == f"sms:{me}"])
    assert row["tier"] == "urgent" and row["callback_number"] == me
    said = [e for e in events(cluster, f"sms:{me}") if e["event"] == "user"]
    assert len(said) == 1


def test_messages_of_one_conversation_on_both_servers_at_once_stay_whole_and_in_order(
    cluster: Cluster,
) -> None:
    me = sender()
    questions = [
        "how do I use ice packs?",
        "when can I shower?",
        "can I drive?",
        "how long will I be sore?",
        "what is kyphoplasty?",
        "when can I go back to work?",
    ]
    Client(cluster.layout.rasa[0]).text(me, "hello")
    start = threading.Barrier(len(questions))
    answers: Dict[str, str] = {}

    def ask(index: int, question: str) -> None:
        client = Client(cluster.layout.rasa[index % 2])  # alternate between the servers
        start.wait()
        answers[question] = client.text(me, question)

    threads = [threading.Thread(target=ask, args=pair) for pair in enumerate(questions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(answers.get(q) for q in questions)

    tracker = events(cluster, f"rest:{me}", replica=1)
    said = [e["text"] for e in tracker if e["event"] == "user"]
    assert said[0] == "hello" and sorted(said[1:]) == sorted(questions)  # every turn, once
    # one turn after another: each message is answered before the next one is read
    turns: List[List[str]] = []
    for event in tracker:
        if event["event"] == "user":
            turns.append([])
        elif turns:
            turns[-1].append(event["event"])
    assert len(turns) == len(questions) + 1
    for turn in turns:
        assert "bot" in turn and turn[-1] == "action", turn  # ends listening (action_listen)
    stamps = [e["timestamp"] for e in tracker]
    assert stamps == sorted(stamps)
    # and the bot's answer to each question is the one its client got
    for question in questions:
        index = said.index(question)
        texts = [e.get("text") for e in _turn_events(tracker, index) if e["event"] == "bot"]
        assert "\n".join(t or "" for t in texts) in answers[question]


def _turn_events(tracker: List[Dict[str, Any]], index: int) -> List[Dict[str, Any]]:
    """The events after the `index`-th user message, up to the next one."""
    seen = -1
    found: List[Dict[str, Any]] = []
    for event in tracker:
        if event["event"] == "user":
            seen += 1
            continue
        if seen == index:
            found.append(event)
    return found


def test_redis_restarting_mid_conversation_still_gets_answers(
    cluster: Cluster, project_store: Any
) -> None:
    me = sender()
    public = Client(cluster.layout.public)
    assert "ice" in public.text(me, "how do I use ice packs?").lower()
    cluster.restart("redis")  # locks lost; every server's connection to Redis broken
    assert public.text(me, "when can I shower?")
    cluster.stop("redis")  # and down for a while: a warning sign still gets its advice
    try:
        reply = public.text(me, "my legs went numb this morning and its getting worse")
        assert get_settings().clinic_phone in reply
    finally:
        cluster.start_service(cluster.services["redis"])
    wait_until(lambda: [r for r in project_store.list() if r["sender"] == f"rest:{me}"])
    assert public.text(me, "can I drive?")
    said = [e["text"] for e in events(cluster, f"rest:{me}") if e["event"] == "user"]
    assert len(said) == 4
    logs = "".join((cluster.logs / f"rasa-{i}.log").read_text(errors="replace") for i in (1, 2))
    assert "this turn runs under this server's own lock only" in logs


async def _web_chat(base: str) -> Dict[str, Any]:
    import socketio
    import websockets

    results: Dict[str, Any] = {}
    # nginx passes the websocket upgrade on: engine.io's open packet comes back
    ws_url = base.replace("http", "ws") + "/webhooks/web/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(ws_url, origin=base) as socket:
        results["websocket"] = str(await asyncio.wait_for(socket.recv(), 30))
    # a whole chat over long-polling (every request of this client on one server)
    client = socketio.AsyncClient(reconnection=False)
    loop = asyncio.get_running_loop()
    confirmed: asyncio.Future = loop.create_future()
    said: List[str] = []
    client.on("session_confirm", lambda data: confirmed.set_result(data["session_id"]))
    client.on("bot_uttered", lambda data: said.append(data.get("text") or ""))
    await client.connect(
        base,
        socketio_path="/webhooks/web/socket.io",
        transports=["polling"],
        headers={"Origin": base},
    )
    try:
        await client.emit("session_request", {})
        results["session"] = await asyncio.wait_for(confirmed, 30)
        for _ in range(600):
            if said:
                break
            await asyncio.sleep(0.1)
        greeting = len(said)
        await client.emit("user_uttered", {"message": "how do I use ice packs?"})
        for _ in range(600):
            if len(said) > greeting:
                break
            await asyncio.sleep(0.1)
        results["answers"] = said[greeting:]
    finally:
        await client.disconnect()
    return results


def test_the_website_chat_works_through_nginx(cluster: Cluster) -> None:
    results = asyncio.run(_web_chat(cluster.url))
    assert results["websocket"].startswith("0{")
    assert len(results["session"]) == 32
    assert any("ice" in text.lower() for text in results["answers"])
