"""Website-chat sessions bound to their browser: the cookie, the binding, idle expiry and
"Forget me", in process with a stand-in socket server (tests/e2e/test_web.py drives the
same in Chromium)."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels import web_sessions
from bot.channels.web import CONVERSATION_PREFIX, WebInput
from bot.channels.web_sessions import WebSessions, browser_key, digest, new_browser_key
from bot.settings import get_settings
from tests.support.profiles import query, sqlite_only

A_KEY = new_browser_key()
B_KEY = new_browser_key()


class FakeSio:
    """What WebInput asks of python-socketio's server: rooms and emits, recorded."""

    def __init__(self) -> None:
        self.emitted: List[Tuple[str, Dict[str, Any], Optional[str]]] = []
        self.rooms: Dict[str, Set[str]] = {}

    async def emit(self, event: str, data: Dict[str, Any], room: Optional[str] = None) -> None:
        self.emitted.append((event, data, room))

    async def enter_room(self, sid: str, room: str) -> None:
        self.rooms.setdefault(room, set()).add(sid)

    async def leave_room(self, sid: str, room: str) -> None:
        self.rooms.get(room, set()).discard(sid)

    def confirmed(self, sid: str) -> Dict[str, Any]:
        return [d for e, d, r in self.emitted if e == "session_confirm" and r == sid][-1]


class FakeTrackerStore:
    def __init__(self) -> None:
        self.trackers: Dict[str, DialogueStateTracker] = {}

    async def retrieve(self, conversation: str) -> Optional[DialogueStateTracker]:
        return self.trackers.get(conversation)


@pytest.fixture
def chat(monkeypatch: pytest.MonkeyPatch) -> WebInput:
    channel = WebInput()
    channel.sio = FakeSio()  # type: ignore[assignment]
    store = FakeTrackerStore()
    agent = SimpleNamespace(tracker_store=store, is_ready=lambda: True)
    channel.app = SimpleNamespace(ctx=SimpleNamespace(agent=agent))  # type: ignore[assignment]
    greeted: List[str] = []

    async def greet(conversation: str) -> None:
        greeted.append(conversation)
        store.trackers[conversation] = DialogueStateTracker.from_events(
            conversation, [UserUttered("my legs went numb an hour ago")]
        )

    monkeypatch.setattr(channel, "_greet", greet)
    channel.greeted = greeted  # type: ignore[attr-defined]
    return channel


def start(chat: WebInput, sid: str, key: Optional[str], asked: Optional[str] = None) -> Dict:
    chat.browsers[sid] = key
    asyncio.run(chat._start_session(sid, {"session_id": asked}))
    return chat.sio.confirmed(sid)  # type: ignore[union-attr]


def test_a_session_continues_only_in_the_browser_it_was_issued_to(chat):
    first = start(chat, "a", A_KEY)
    stolen = first["session_id"]
    assert first["history"] == [] and chat.greeted == [CONVERSATION_PREFIX + stolen]

    again = start(chat, "a2", A_KEY, stolen)  # the same browser reloads
    assert again["session_id"] == stolen
    assert again["history"] == [{"from": "user", "text": "my legs went numb an hour ago"}]

    for sid, key in (("b", B_KEY), ("c", None)):  # another browser, or one with no cookie
        other = start(chat, sid, key, stolen)
        assert other["session_id"] != stolen and other["history"] == []
        assert sid not in chat.sio.rooms[CONVERSATION_PREFIX + stolen]  # none of its replies


def test_a_message_from_the_other_browser_goes_to_its_own_conversation(chat):
    stolen = start(chat, "a", A_KEY)["session_id"]
    own = start(chat, "b", B_KEY, stolen)["session_id"]
    received: List[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    asyncio.run(chat._receive("b", {"message": "how do I use ice packs?"}, on_new_message))
    assert [m.sender_id for m in received] == [CONVERSATION_PREFIX + own]


def test_an_idle_session_cannot_be_continued(chat, monkeypatch):
    monkeypatch.setenv("WEB_SESSION_IDLE_MINUTES", "30")
    get_settings.cache_clear()
    issued = start(chat, "a", A_KEY)["session_id"]
    later = time.time() + 31 * 60
    monkeypatch.setattr(web_sessions.time, "time", lambda: later)
    assert start(chat, "a2", A_KEY, issued)["session_id"] != issued


def test_a_socket_quiet_past_the_limit_gets_a_new_session_with_its_next_message(chat, monkeypatch):
    monkeypatch.setenv("WEB_SESSION_IDLE_MINUTES", "0.001")  # 60 ms
    get_settings.cache_clear()
    issued = start(chat, "a", A_KEY)["session_id"]
    time.sleep(0.2)
    received: List[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    asyncio.run(chat._receive("a", {"message": "my back is sore"}, on_new_message))
    fresh = chat.sio.confirmed("a")
    assert fresh["session_id"] != issued and fresh["expired"] is True
    assert fresh["history"] == [{"from": "user", "text": "my back is sore"}]
    # the message itself is answered, in the new conversation
    assert [m.sender_id for m in received] == [CONVERSATION_PREFIX + fresh["session_id"]]


def test_forget_me_ends_the_session_for_every_browser(chat):
    issued = start(chat, "a", A_KEY)["session_id"]
    start(chat, "a-tab-2", A_KEY, issued)
    asyncio.run(chat._forget("a"))
    conversation = CONVERSATION_PREFIX + issued
    assert ("session_ended", {}, conversation) in chat.sio.emitted
    assert chat.sio.rooms[conversation] == set() and "a" not in chat.sessions
    assert start(chat, "a3", A_KEY, issued)["session_id"] != issued


def test_the_browser_key_is_read_only_from_its_own_cookie_of_the_right_shape():
    key = new_browser_key()
    assert browser_key(f"other=1; clinic_chat_browser={key}; x=y") == key
    assert browser_key("clinic_chat_browser=short") is None
    assert browser_key(f"clinic_chat_browser={key}x") is None
    assert browser_key('clinic_chat_browser="; bad') is None
    assert browser_key(None) is None and browser_key("") is None


def test_only_a_hash_of_the_browser_key_is_stored():
    sessions = web_sessions.get_web_sessions()  # on the database by settings
    sessions.bind("s" * 32, A_KEY, now=1000.0)
    assert sessions.continues("s" * 32, A_KEY, now=1000.0)
    assert not sessions.continues("s" * 32, B_KEY, now=1000.0)
    assert query("select * from web_sessions") == [
        {"session_id": "s" * 32, "browser": digest(A_KEY), "last_seen": 1000.0}
    ]


@sqlite_only("reads the bytes of the SQLite file")
def test_the_browser_key_is_nowhere_in_the_sqlite_file():
    sessions = WebSessions(get_settings().assistant_db)
    sessions.bind("s" * 32, A_KEY, now=1000.0)
    sessions.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert A_KEY.encode() not in get_settings().assistant_db.read_bytes()


def test_the_cookie_is_http_only_same_site_strict_and_secure_over_https(monkeypatch):
    from sanic import Blueprint

    routes: Dict[str, Any] = {}

    class Recorder(Blueprint):
        def route(self, uri: str, **_: Any) -> Any:  # type: ignore[override]
            return lambda handler: routes.setdefault(uri, handler)

    web_sessions.add_routes(Recorder("x"), lambda origin, environ: origin == "https://ok.test")

    def post(origin: Optional[str], scheme: str = "http", cookie: str = "") -> Any:
        headers = {"Cookie": cookie, "X-Forwarded-Proto": scheme}
        if origin:
            headers["Origin"] = origin
        request = SimpleNamespace(headers=headers, host="a.test", scheme="http")
        return asyncio.run(routes["/session"](request))

    reply = post("https://ok.test", "https")
    header = reply.cookies["clinic_chat_browser"].encode("utf-8").decode()
    for part in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/webhooks/web/"):
        assert part in header, header
    assert reply.headers["Access-Control-Allow-Origin"] == "https://ok.test"
    assert reply.headers["Access-Control-Allow-Credentials"] == "true"
    plain = post(None).cookies["clinic_chat_browser"].encode("utf-8").decode()
    assert "Secure" not in plain and "HttpOnly" in plain
    kept = post(None, cookie=f"clinic_chat_browser={A_KEY}")
    assert kept.cookies["clinic_chat_browser"].value == A_KEY  # the same browser keeps its key
    assert post("https://evil.test").status == 403
