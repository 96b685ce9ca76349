"""Website-chat sessions bound to the browser that opened them.

A session id alone is not enough to continue a conversation: it travels in the page
(sessionStorage, devtools, a screenshot, a support ticket). The server also gives the
browser a key of its own in a cookie the page's scripts cannot read (HttpOnly,
SameSite=Strict, Secure over HTTPS, path /webhooks/web/), and keeps a hash of it beside
each session id it issues. A socket continues a session only when its handshake carried
the same browser key and the session was used within WEB_SESSION_IDLE_MINUTES; anyone
else gets a fresh session, with no history and none of the other patient's replies.

- POST /webhooks/web/session   issues the browser key cookie (or refreshes it); the widget
                               calls it before connecting. Origins as for the chat itself.
- the `web_sessions` table     session id, hash of its browser key, last use. "Forget me"
                               deletes the row, so nobody can continue that session.

On SQLite the table is in the assistant's file, through a connection of its own; with
DATABASE_URL it is on PostgreSQL with the store's tables, so every Rasa server behind the load
balancer sees the same sessions.

The key is never stored, only its SHA-256; rows idle past the limit are deleted as new
sessions are opened. The conversation itself stays in the tracker store (retention deletes
it), so a warning sign in it is still reconciled.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import threading
import time
from contextlib import contextmanager
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, Sequence

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import get_settings
from bot.store import Store, get_store

COOKIE = "clinic_chat_browser"
COOKIE_PATH = "/webhooks/web/"
KEY = re.compile(r"[A-Za-z0-9_-]{43}")
Origins = Callable[[Optional[str], Optional[Dict[str, str]]], bool]


def new_browser_key() -> str:
    """A fresh browser key: 32 random bytes, URL-safe, 43 characters."""
    return secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def browser_key(cookie_header: Optional[str]) -> Optional[str]:
    """The browser key in a Cookie header, or None when there is none of the right shape."""
    if not cookie_header:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except CookieError:
        return None
    morsel = cookies.get(COOKIE)
    return morsel.value if morsel is not None and KEY.fullmatch(morsel.value) else None


def idle_seconds() -> float:
    return max(get_settings().web_session_idle_minutes, 0.0) * 60


class WebSessions:
    """Which browser each web session belongs to, and when it was last used.

    On SQLite (a `path`), its own connection to the assistant's file (WAL, busy timeout),
    usable from any thread, so the channel calls it off the event loop. Given a `store` on
    another database, that store's pooled connections."""

    def __init__(self, path: Optional[Path] = None, store: Optional[Store] = None) -> None:
        self._lock = threading.Lock()
        self.store = store if store is not None and store.dialect != "sqlite" else None
        self.conn: Optional[sqlite3.Connection] = None
        if self.store is not None:
            self.path = self.store.path
            return
        if path is None and store is None:
            raise ValueError("WebSessions needs a SQLite path or a store")
        self.path = Path(path if path is not None else store.path)  # type: ignore[union-attr]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(
            str(self.path), timeout=30, isolation_level=None, check_same_thread=False
        )
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.conn.execute(
            "create table if not exists web_sessions "
            "(session_id text primary key, browser text not null, last_seen float not null)"
        )

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        if self.store is not None:
            with self.store.transaction(exclusive=False) as conn:
                yield conn
            return
        assert self.conn is not None
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def _row(self, sql: str, args: Sequence[Any]) -> Any:
        if self.store is not None:
            return self.store.db.execute(sql, args).fetchone()
        assert self.conn is not None
        with self._lock:
            return self.conn.execute(sql, args).fetchone()

    def bind(self, session_id: str, key: Optional[str], now: Optional[float] = None) -> None:
        """Give a new session to the browser holding `key` (no key: nobody can continue it)."""
        now = time.time() if now is None else now
        with self._transaction() as conn:
            conn.execute("delete from web_sessions where last_seen < ?", [now - idle_seconds()])
            if key:
                conn.execute(
                    "insert into web_sessions (session_id, browser, last_seen) values (?, ?, ?) "
                    "on conflict (session_id) do update set browser = excluded.browser, "
                    "last_seen = excluded.last_seen",
                    [session_id, digest(key), now],
                )

    def continues(self, session_id: str, key: Optional[str], now: Optional[float] = None) -> bool:
        """Whether the browser holding `key` may continue `session_id` now."""
        if not key:
            return False
        now = time.time() if now is None else now
        row = self._row(
            "select browser, last_seen from web_sessions where session_id = ?", [session_id]
        )
        if row is None or now - float(row[1]) > idle_seconds():
            return False
        return secrets.compare_digest(str(row[0]), digest(key))

    def touch(self, session_id: str, now: Optional[float] = None) -> None:
        with self._transaction() as conn:
            conn.execute(
                "update web_sessions set last_seen = ? where session_id = ?",
                [time.time() if now is None else now, session_id],
            )

    def forget(self, session_id: str) -> None:
        with self._transaction() as conn:
            conn.execute("delete from web_sessions where session_id = ?", [session_id])


_sessions: Dict[Any, WebSessions] = {}


def get_web_sessions() -> WebSessions:
    """The web sessions in the assistant's database (the SQLite file, or DATABASE_URL's),
    opened once per database."""
    settings = get_settings()
    if settings.database_url:
        store = get_store()
        found = _sessions.get(settings.database_url)
        if found is None or found.store is not store:
            _sessions[settings.database_url] = WebSessions(store=store)
        return _sessions[settings.database_url]
    path = settings.assistant_db
    if path not in _sessions:
        _sessions[path] = WebSessions(path)
    return _sessions[path]


def _secure(request: Request) -> bool:
    forwarded = (request.headers.get("X-Forwarded-Proto") or "").split(",")[0].strip().lower()
    return request.scheme == "https" or forwarded == "https"


def add_routes(chat: Blueprint, origin_allowed: Origins) -> None:
    """POST /session: the browser key cookie, for the widget to send with its socket."""

    @chat.route("/session", methods=["POST"])
    async def session(request: Request) -> HTTPResponse:
        origin = request.headers.get("Origin")
        environ = {"HTTP_HOST": request.host, "wsgi.url_scheme": request.scheme}
        if origin is not None and not origin_allowed(origin, environ):
            return response.json({"error": "origin not allowed"}, status=403)
        headers = {"Cache-Control": "no-store", "Vary": "Origin"}
        if origin is not None:
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Allow-Credentials"] = "true"
        reply = response.json({"status": "ok"}, headers=headers)
        key = browser_key(request.headers.get("Cookie")) or new_browser_key()
        reply.cookies[COOKIE] = key
        cookie = reply.cookies[COOKIE]
        cookie["path"] = COOKIE_PATH
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["max-age"] = int(max(idle_seconds(), 60)) + 24 * 3600
        if _secure(request):
            cookie["secure"] = True
        return reply
