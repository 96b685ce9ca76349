"""The website chat channel (socket.io), made safe for patients.

Differences from Rasa 3.6's stock `socketio` channel:
- only browsers on the origins in WEB_ALLOWED_ORIGINS may connect (Rasa allows any);
- the server issues session ids (192 random bits) and binds each to the browser that
  opened it (`web_sessions`: an HttpOnly, SameSite=Strict cookie beside the id). A client
  that sends an id back continues that conversation only from the same browser, within
  WEB_SESSION_IDLE_MINUTES of its last use, and if the tracker store holds it; anyone else
  gets a new one, with no history. The conversation id is `web:<session id>`, so no other
  channel's conversation (`sms:`, `rest:`) can be joined, and messages go to the
  conversation bound to the socket, never to one the client names. A socket quiet past
  the limit gets a new session with its next message; "Forget me" (`forget`) ends the
  session for good;
- text is cleaned (`bot.text`): a leading "/" is text, and a message with no words gets a
  kind answer and leaves the conversation alone; the client cannot attach metadata; a
  long message is cut for the answer and scanned whole for warning signs off the event
  loop (`bot.long_messages`);
- a new conversation opens with the greeting, triggered as an external `greet` intent
  (no words are put in the patient's mouth); a continued one gets its history again;
- bot messages go out whole, buttons as quick replies, urgent answers tagged with the
  numbers to call; "the assistant is typing" is sent while the assistant works;
- it serves the demo clinic page and the widget's files (`bot/channels/web_page.py`);
- the worker can show a message from bot/replies.yml in an open chat (`web_push`: the
  patient follow-up), which is kept in the conversation's history;
- a message runs in python-socketio's own task, not in the connection's, so a phone whose
  connection drops mid-turn still has the turn processed and a warning sign escalated;
- with REDIS_URL set (several Rasa servers), the socket.io servers share one message queue
  on Redis (python-socketio's AsyncRedisManager), so a message for a browser reaches it
  whichever server sends it; the load balancer still keeps each browser on one server
  (long-polling needs it), by a consistent hash of its address;
- message text is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, Sanic
from socketio import AsyncServer

from bot import replies
from bot.channels import web_page, web_push, web_sessions
from bot.channels.web_messages import bot_payload, clinic_info, history
from bot.channels.web_sessions import browser_key, get_web_sessions, idle_seconds
from bot.long_messages import read_message
from bot.settings import get_settings
from bot.tracker_store import turn_kept

logger = logging.getLogger(__name__)

CONVERSATION_PREFIX = "web:"
SOCKETIO_PATH = "/webhooks/web/socket.io"
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")
USER_EVENT = "user_uttered"
BOT_EVENT = "bot_uttered"
TYPING_EVENT = "bot_typing"
MAX_PAYLOAD_BYTES = 64 * 1024
# the Redis pub/sub channel the Rasa servers' socket.io servers share (REDIS_URL)
SOCKETIO_CHANNEL = "clinic_web_chat"


def new_session_id() -> str:
    """A fresh session id: 24 random bytes (192 bits), URL-safe, 32 characters."""
    return secrets.token_urlsafe(24)


def conversation_id(session_id: str) -> str:
    """The tracker id of a web session: namespaced so no other channel's id matches."""
    return CONVERSATION_PREFIX + session_id


def origin_allowed(origin: Optional[str], environ: Optional[Dict[str, Any]] = None) -> bool:
    """Whether a browser on `origin` may use the chat.

    The origins come from WEB_ALLOWED_ORIGINS. Without that setting only the server's
    own origin is allowed (`python -m bot serve` sets it to the local server's).
    """
    if not origin:
        return False
    origin = origin.strip().rstrip("/").lower()
    allowed = get_settings().web_allowed_origins
    if allowed:
        return origin in allowed
    environ = environ or {}
    host = environ.get("HTTP_HOST")
    scheme = environ.get("wsgi.url_scheme", "http")
    return bool(host) and origin == f"{scheme}://{host}".lower()


def client_manager() -> Dict[str, Any]:
    """The `client_manager` argument of the socket.io server: on Redis when REDIS_URL is set
    (shared by every Rasa server), else python-socketio's default in-process one."""
    url = get_settings().redis_url
    if not url:
        return {}
    from socketio import AsyncRedisManager

    # python-socketio sends each message to this server's sockets first, then publishes it; a
    # Redis that is down costs only the publish (logged), bounded by these timeouts
    options = {"socket_connect_timeout": 2, "socket_timeout": 2}
    return {
        "client_manager": AsyncRedisManager(url, channel=SOCKETIO_CHANNEL, redis_options=options)
    }


class WebOutput(SocketIOOutput):
    """Sends each bot message whole to the conversation's room, tagged for the widget."""

    @classmethod
    def name(cls) -> str:
        return "web"

    def __init__(self, sio: AsyncServer) -> None:
        super().__init__(sio, BOT_EVENT)

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        payload = bot_payload(message)
        if payload:
            await self._send_message(recipient_id, payload)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {**kwargs, "text": text})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_response(recipient_id, {**kwargs, "text": text, "buttons": buttons})

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_custom_json(
        self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any
    ) -> None:
        """The widget shows no custom payloads; the domain has none."""


class _ChannelBlueprint(SocketBlueprint):
    """Rasa's socket.io blueprint that also tells the channel which app it runs in."""

    def __init__(self, channel: WebInput, sio: AsyncServer, *args: Any) -> None:
        super().__init__(sio, SOCKETIO_PATH, *args)
        self.ctx.channel = channel

    def register(self, app: Sanic, options: Dict[str, Any]) -> None:
        self.ctx.channel.app = app
        super().register(app, options)


class WebInput(SocketIOInput):
    """Socket.io input channel for the website chat widget (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "web"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> WebInput:
        credentials = credentials or {}
        return cls(session_persistence=bool(credentials.get("session_persistence", True)))

    def __init__(self, session_persistence: bool = True) -> None:
        super().__init__(
            user_message_evt=USER_EVENT,
            bot_message_evt=BOT_EVENT,
            session_persistence=session_persistence,
            socketio_path=SOCKETIO_PATH,
        )
        self.app: Optional[Sanic] = None
        replies.preload()
        self.sessions: Dict[str, str] = {}  # socket id -> conversation id
        self.browsers: Dict[str, Optional[str]] = {}  # socket id -> browser key (cookie)
        self.active: Dict[str, float] = {}  # socket id -> when its session was last used

    def get_output_channel(self) -> Optional[WebOutput]:
        return WebOutput(self.sio) if self.sio is not None else None

    def _agent(self) -> Any:
        agent = getattr(self.app.ctx, "agent", None) if self.app else None
        return agent if agent is not None and agent.is_ready() else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=origin_allowed,
            max_http_buffer_size=MAX_PAYLOAD_BYTES,
            **client_manager(),
        )
        self.sio = sio
        chat = _ChannelBlueprint(self, sio, "web_chat", __name__)
        web_page.add_routes(chat)
        web_sessions.add_routes(chat, origin_allowed)
        web_push.add_routes(chat, self)

        @sio.on("connect")
        async def connect(sid: str, environ: Dict[str, Any], auth: Any = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            # browsers always send Origin cross-site; its absence means a same-origin
            # polling request or a client that is not a browser
            allowed = origin is None or origin_allowed(origin, environ)
            if allowed:
                self.browsers[sid] = browser_key(environ.get("HTTP_COOKIE"))
            return allowed

        @sio.on("disconnect")
        async def disconnect(sid: str, *_: Any) -> None:
            self.sessions.pop(sid, None)
            self.browsers.pop(sid, None)
            self.active.pop(sid, None)

        @sio.on("forget")
        async def forget(sid: str, *_: Any) -> None:
            await self._forget(sid)

        @sio.on("session_request")
        async def session_request(sid: str, data: Any = None) -> None:
            await self._start_session(sid, data)

        @sio.on(USER_EVENT)
        async def user_uttered(sid: str, data: Any = None) -> None:
            await self._receive(sid, data, on_new_message)

        return chat

    async def _start_session(self, sid: str, data: Any) -> None:
        """Bind the socket to a conversation: the one it asks for if this browser may
        continue it, else a new one."""
        requested = data.get("session_id") if isinstance(data, dict) else None
        key = self.browsers.get(sid)
        agent = self._agent()
        tracker = None
        if (
            self.session_persistence
            and agent is not None
            and isinstance(requested, str)
            and SESSION_ID.match(requested)
            and await asyncio.to_thread(get_web_sessions().continues, requested, key)
        ):
            try:
                tracker = await agent.tracker_store.retrieve(conversation_id(requested))
            except Exception:
                logger.exception("web chat: could not read a conversation; starting a new one")
        if isinstance(requested, str) and tracker is not None and tracker.events:
            await asyncio.to_thread(get_web_sessions().touch, requested)
            shown = history(list(tracker.events))
            await self._bind(sid, requested, shown)
        else:
            shown = []
            await self._bind(sid, await self._new_session(key), shown)
        if not shown:
            await self._greet(self.sessions[sid])

    async def _new_session(self, key: Optional[str]) -> str:
        session_id = new_session_id()
        await asyncio.to_thread(get_web_sessions().bind, session_id, key)
        return session_id

    async def _bind(
        self, sid: str, session_id: str, shown: List[Dict[str, Any]], expired: bool = False
    ) -> None:
        """Put the socket in the session's room and tell the widget (with the history)."""
        assert self.sio is not None
        conversation = conversation_id(session_id)
        previous = self.sessions.get(sid)
        if previous and previous != conversation:
            await self.sio.leave_room(sid, previous)
        self.sessions[sid] = conversation
        self.active[sid] = time.monotonic()
        await self.sio.enter_room(sid, conversation)
        confirm = {
            "session_id": session_id,
            "clinic": clinic_info(),
            "history": shown,
            "idle_seconds": idle_seconds(),
        }
        if expired:
            confirm["expired"] = True
        await self.sio.emit("session_confirm", confirm, room=sid)

    async def _forget(self, sid: str) -> None:
        """End the socket's session for good ("Forget me"): no browser can continue it."""
        assert self.sio is not None
        conversation = self.sessions.get(sid)
        if conversation is None:
            return
        await asyncio.to_thread(get_web_sessions().forget, conversation[len(CONVERSATION_PREFIX) :])
        await self.sio.emit("session_ended", {}, room=conversation)
        for other, bound in list(self.sessions.items()):
            if bound == conversation:
                self.sessions.pop(other, None)
                await self.sio.leave_room(other, conversation)

    async def _greet(self, conversation: str) -> None:
        """Open a new conversation with the greeting, as an external `greet` intent."""
        agent = self._agent()
        if agent is None or self.sio is None:
            return
        output = WebOutput(self.sio)
        await self._typing(conversation, True)
        try:
            async with agent.lock_store.lock(conversation):
                tracker = await agent.processor.fetch_tracker_and_update_session(
                    conversation, output
                )
                await agent.trigger_intent("greet", [], output, tracker)
        except Exception:
            logger.exception("web chat: the greeting failed for a conversation")
            # an empty chat would look broken: say so, with the clinic's number and 911
            await self._say(conversation, replies.web_trouble())
        finally:
            await self._typing(conversation, False)

    async def _receive(
        self,
        sid: str,
        data: Any,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        assert self.sio is not None
        conversation = self.sessions.get(sid)
        if conversation is None:
            logger.debug("web chat: message before session_request; ignored")
            return
        incoming = await read_message(data.get("message") if isinstance(data, dict) else None)
        if not incoming.usable:
            await self._say(sid, replies.unusable_message())
            return
        if time.monotonic() - self.active.get(sid, 0.0) > idle_seconds():
            # quiet past the limit: this message opens a new session, the old one is closed
            shown = [{"from": "user", "text": incoming.text}]
            await self._bind(sid, await self._new_session(self.browsers.get(sid)), shown, True)
            conversation = self.sessions[sid]
        else:
            self.active[sid] = time.monotonic()
            await asyncio.to_thread(
                get_web_sessions().touch, conversation[len(CONVERSATION_PREFIX) :]
            )
        output = WebOutput(self.sio)
        await self._typing(conversation, True)
        try:
            await on_new_message(
                UserMessage(
                    incoming.text,
                    output,
                    conversation,
                    input_channel=self.name(),
                    metadata=incoming.metadata,
                )
            )
        except Exception:
            logger.exception("web chat: a message failed for a conversation")
            await self._say(conversation, replies.web_trouble())
        finally:
            await self._typing(conversation, False)
        if not turn_kept(conversation):
            await self._say(conversation, replies.not_kept())
        if incoming.truncated:
            await self._say(conversation, replies.truncated_note())

    async def push(self, conversation: str, text: str, name: str) -> int:
        """Show `text` (the reply called `name`) in every socket bound to the conversation
        and keep it in its history; returns how many sockets, 0 when the chat is not open."""
        sockets = sum(1 for bound in self.sessions.values() if bound == conversation)
        if not sockets or self.sio is None:
            return 0
        agent = self._agent()
        if agent is not None:
            try:
                async with agent.lock_store.lock(conversation):
                    tracker = await agent.tracker_store.retrieve(conversation)
                    if tracker is not None:
                        tracker.update(BotUttered(text, metadata={"utter_action": name}))
                        await agent.tracker_store.save(tracker)
            except Exception:
                logger.exception("web chat: a pushed message could not be kept in the history")
        await self._say(conversation, text)
        return sockets

    async def _say(self, room: str, text: str) -> None:
        assert self.sio is not None
        await self.sio.emit(BOT_EVENT, {"text": text, "quick_replies": []}, room=room)

    async def _typing(self, conversation: str, typing: bool) -> None:
        assert self.sio is not None
        await self.sio.emit(TYPING_EVENT, {"typing": typing}, room=conversation)
