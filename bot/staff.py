"""The staff page server: named sign-in, the alert queue, each alert, and a machine API.

People sign in with a named account (`bot.staff_accounts`); the session cookie is
HttpOnly and SameSite=Strict, and Secure when the page is served over HTTPS. Every form
carries a CSRF token: the session's, or before sign-in one tied to a cookie. Without a
session every page sends the browser to /signin and shows nothing about a patient.
`STAFF_TOKEN` (`Authorization: Bearer <token>`) opens only the JSON API
(`GET /api/escalations`), for the clinic's own systems. Every view and change is audited.
The check-in pages under /checkins are `bot.checkins.staff_routes`' (handed the session).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import secrets
import threading
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Optional
from urllib.parse import parse_qs

from bot import alerts, audit, staff_accounts, staff_pages
from bot.alert_figures import figures
from bot.checkins import staff_routes as checkin_routes
from bot.notify import summary
from bot.settings import Settings
from bot.store import Store

logger = logging.getLogger(__name__)

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
MAX_FORM_BYTES = 4096
SESSION_COOKIE = "staff_session"
SIGNIN_COOKIE = "staff_signin"
TEXT = "text/plain; charset=utf-8"
CHANGES: Dict[str, Callable[..., bool]] = {
    "ack": alerts.acknowledge,
    "resolve": alerts.resolve,
    "reopen": alerts.reopen,
}


def authorised(header: str, token: Optional[str]) -> bool:
    """`Authorization: Bearer <STAFF_TOKEN>`, for the machine API only."""
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[7:].encode(), token.encode())


def make_handler(path: Path, settings: Settings) -> type:
    """A handler that opens its own connection per request (requests run in threads)."""
    token = settings.staff_token

    class StaffHandler(BaseHTTPRequestHandler):
        server_version = "staff"
        sys_version = ""
        timeout = 10  # a client that stops sending never holds a thread for long

        def log_message(self, format: str, *args: Any) -> None:  # no patient data in logs
            logger.debug("staff %s %s", self.command, self.path.split("?")[0])

        # -- plumbing ---------------------------------------------------------------

        def _send(
            self,
            status: int,
            body: str = "",
            content: str = "text/html; charset=utf-8",
            extra: Optional[Dict[str, str]] = None,
            cookies: tuple = (),
        ) -> None:
            data = body.encode()
            self.send_response(status)
            for key, value in {**HEADERS, **(extra or {})}.items():
                self.send_header(key, value)
            for cookie in cookies:
                self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Type", content)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _redirect(self, where: str, cookies: tuple = ()) -> None:
            self._send(HTTPStatus.SEE_OTHER, "", TEXT, {"Location": where}, cookies)

        def _cookie(self, name: str) -> str:
            try:
                jar = SimpleCookie(self.headers.get("Cookie") or "")
            except CookieError:
                return ""
            return jar[name].value if name in jar else ""

        def _set_cookie(self, name: str, value: str, clear: bool = False) -> str:
            https = settings.public_staff_url.startswith("https://") or (
                self.headers.get("X-Forwarded-Proto", "").lower() == "https"
            )
            flags = "; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if https else "")
            return f"{name}={value}{flags}" + ("; Max-Age=0" if clear else "")

        @property
        def remote(self) -> str:
            """The client's address for the audit log: the peer's, or behind a proxy in
            STAFF_TRUSTED_PROXIES the last address that proxy put in X-Forwarded-For."""
            peer = str(self.client_address[0])
            forwarded = self.headers.get("X-Forwarded-For", "")
            if peer in settings.staff_trusted_proxies and forwarded.strip():
                return forwarded.split(",")[-1].strip()[:64]
            return peer

        def _form(self) -> Optional[Dict[str, str]]:
            declared = (self.headers.get("Content-Length") or "0").strip()
            # a form is a few bytes; a length that is negative (read(-1) would wait for the
            # client to close), not a number or too big is refused before reading anything
            if not re.fullmatch(r"[0-9]{1,9}", declared) or int(declared) > MAX_FORM_BYTES:
                self.close_connection = True
                self._send(HTTPStatus.BAD_REQUEST, "Bad request", TEXT)
                return None
            raw = parse_qs(self.rfile.read(int(declared)).decode(errors="replace"))
            return {key: values[0] for key, values in raw.items()}

        def _session(self, store: Store) -> Optional[staff_accounts.Session]:
            touch = self.path.partition("?")[2] != staff_pages.AUTO_REFRESH
            return staff_accounts.session(store, settings, self._cookie(SESSION_COOKIE), touch)

        # -- GET --------------------------------------------------------------------

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            if path == "/health":
                self._send(HTTPStatus.OK, "ok", TEXT)
                return
            store = Store(path_db)
            try:
                if path == "/api/escalations":
                    self._api(store)
                elif path == "/signin":
                    fresh = secrets.token_urlsafe(24)
                    cookie = self._set_cookie(SIGNIN_COOKIE, fresh)
                    page = staff_pages.sign_in_page(fresh)
                    self._send(HTTPStatus.OK, page, cookies=(cookie,))
                else:
                    self._page(store, path)
            finally:
                store.close()

        def _api(self, store: Store) -> None:
            if not authorised(self.headers.get("Authorization", ""), token):
                self._send(HTTPStatus.UNAUTHORIZED, "Unauthorized", TEXT)
                return
            rows = [summary(row, settings) for row in alerts.queue(store)]
            audit.record(store, "api", "listed alerts", detail=str(len(rows)), remote=self.remote)
            self._send(HTTPStatus.OK, json.dumps(rows), "application/json")

        def _page(self, store: Store, path: str) -> None:
            found = self._session(store)
            if found is None:
                self._redirect("/signin")
                return
            name, csrf = found.user.name, found.csrf
            if path.startswith("/checkins"):
                self._checkins("GET", store, path, found)
                return
            if path == "/":
                rows = alerts.queue(store)
                audit.record(store, name, "viewed queue", detail=str(len(rows)), remote=self.remote)
                admin = found.user.role == "admin"
                page = staff_pages.queue_page(rows, name, csrf, figures(store), admin)
                self._send(HTTPStatus.OK, page)
                return
            if path == "/audit":
                if found.user.role != "admin":
                    self._send(HTTPStatus.FORBIDDEN, "Admins only", TEXT)
                    return
                audit.record(store, name, "viewed audit log", remote=self.remote)
                rows = audit.rows(store, limit=500)
                self._send(HTTPStatus.OK, staff_pages.audit_page(rows, name, csrf))
                return
            match = re.fullmatch(r"/escalations/(\d{1,9})", path)
            row = store.get(int(match.group(1))) if match else None
            if row is None:
                self._send(HTTPStatus.NOT_FOUND, "Not found", TEXT)
                return
            audit.record(store, name, "viewed alert", row["id"], remote=self.remote)
            page = staff_pages.alert_page(
                row,
                alerts.conversation(store, row),
                alerts.attempts(store, row["id"]),
                audit.rows(store, row["id"], limit=50),
                name,
                csrf,
                alerts.checkin_answers(store, row),
            )
            self._send(HTTPStatus.OK, page)

        # -- POST -------------------------------------------------------------------

        def do_POST(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            form = self._form()
            if form is None:
                return
            store = Store(path_db)
            try:
                if path == "/signin":
                    self._sign_in(store, form)
                    return
                found = self._session(store)
                if found is None or not hmac.compare_digest(
                    form.get("csrf", "").encode(), found.csrf.encode()
                ):
                    self._send(HTTPStatus.FORBIDDEN, "Forbidden", TEXT)
                    return
                if path == "/signout":
                    staff_accounts.sign_out(store, self._cookie(SESSION_COOKIE), self.remote)
                    cleared = self._set_cookie(SESSION_COOKIE, "", clear=True)
                    self._redirect("/signin", (cleared,))
                    return
                if path.startswith("/checkins"):
                    self._checkins("POST", store, path, found, form)
                    return
                self._change(store, path, form, found.user.name)
            finally:
                store.close()

        def _checkins(
            self,
            method: str,
            store: Store,
            path: str,
            found: staff_accounts.Session,
            form: Optional[Dict[str, str]] = None,
        ) -> None:
            """The check-in pages (routes and handlers in bot/checkins/staff_routes.py)."""
            who = checkin_routes.Viewer(found.user.name, found.csrf, self.remote)
            reply = checkin_routes.dispatch(method, path, store, settings, who, form)
            if reply is None:
                self._send(HTTPStatus.NOT_FOUND, "Not found", TEXT)
                return
            self._send(reply.status, reply.body, reply.content_type, reply.headers)

        def _sign_in(self, store: Store, form: Dict[str, str]) -> None:
            expected = self._cookie(SIGNIN_COOKIE)
            if not expected or not hmac.compare_digest(
                form.get("csrf", "").encode(), expected.encode()
            ):
                self._send(HTTPStatus.FORBIDDEN, "Forbidden", TEXT)
                return
            result = staff_accounts.sign_in(
                store, settings, form.get("name", ""), form.get("password", ""), self.remote
            )
            if result.cookie is None:
                error = (
                    "Too many wrong passwords: this account is locked for a while."
                    if result.locked
                    else "That name and password do not match."
                )
                page = staff_pages.sign_in_page(expected, error)
                self._send(HTTPStatus.UNAUTHORIZED, page)
                return
            session = self._set_cookie(SESSION_COOKIE, result.cookie)
            done = self._set_cookie(SIGNIN_COOKIE, "", clear=True)
            self._redirect("/", (session, done))

        def _change(self, store: Store, path: str, form: Dict[str, str], name: str) -> None:
            match = re.fullmatch(r"/escalations/(\d{1,9})/(ack|resolve|reopen)", path)
            if not match:
                self._send(HTTPStatus.NOT_FOUND, "Not found", TEXT)
                return
            escalation_id, verb = int(match.group(1)), match.group(2)
            extra: Dict[str, str] = {}
            if verb == "resolve":
                if form.get("outcome") not in alerts.OUTCOMES:
                    self._send(HTTPStatus.BAD_REQUEST, "Choose an outcome", TEXT)
                    return
                extra = {"outcome": form["outcome"], "note": form.get("note", "")}
            done = CHANGES[verb](store, escalation_id, name, remote=self.remote, **extra)
            if not done:
                self._send(HTTPStatus.CONFLICT, "That alert has changed; reload it", TEXT)
                return
            self._redirect(f"/escalations/{escalation_id}")

    path_db = path
    return StaffHandler


def serve(store: Store, settings: Settings, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Start the staff page in a background thread; returns the server (shutdown() stops it)."""
    if not settings.staff_token:
        logger.warning("STAFF_TOKEN is not set: the staff API refuses every request")
    if not store.db.execute("select 1 from staff_users limit 1").fetchone():
        logger.warning(
            "No staff account yet: nobody can sign in to the staff pages "
            "(python -m bot staff add NAME --role nurse)"
        )
    server = ThreadingHTTPServer((host, settings.staff_port), make_handler(store.path, settings))
    threading.Thread(target=server.serve_forever, daemon=True, name="staff-page").start()
    return server
