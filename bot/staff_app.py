"""The staff pages as a Sanic app: named sign-in, the alert queue, each alert, the audit log
and a machine API. `create_app(settings)` builds it; `bot.staff` serves it.

Every route is one row of `ROUTES` (method, path, view, access): the one place to add a page.
A view is a plain function run in a worker thread with a `Call` (the request, a Store opened
for this request, the session) and returns a Sanic response. The database is opened per
request in that thread, never at import and never on the event loop: scrypt (about 50 ms a
sign-in) and a write that waits for SQLite's lock would otherwise stall every other page.

`access` says who may call a route, checked before the view runs:
- `OPEN`: anyone (health, the sign-in form; the sign-in POST checks its own CSRF cookie);
- `PAGE`: a live session, else a redirect to /signin that shows nothing about a patient;
- `ADMIN`: a session of an admin (403 for a nurse);
- `FORM`: a session and the session's CSRF token in the form, else 403;
- `TOKEN`: `Authorization: Bearer <STAFF_TOKEN>`, else 401; for the clinic's own systems.

The session cookie is HttpOnly and SameSite=Strict, and Secure when the page is served over
HTTPS (`PUBLIC_STAFF_URL` or the proxy's `X-Forwarded-Proto`). Every view and change is
audited by the view. Limits for slow or greedy clients are Sanic's own settings (request,
response and keep-alive timeouts, the body size); the access log is off.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import itertools
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

from sanic import Request, Sanic
from sanic.exceptions import InvalidUsage, SanicException
from sanic.response import HTTPResponse, html, json, redirect, text

from bot import alerts, audit, staff_accounts, staff_pages
from bot.alert_figures import figures
from bot.checkins import staff_routes as checkin_routes
from bot.notify import summary
from bot.settings import Settings
from bot.store import Store, open_store

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
MAX_FORM_BYTES = 4096
# Sanic's idle limits, counted from the last bytes received: headers that stop coming get 408
# after REQUEST_TIMEOUT_SECONDS; a body that stops coming, or a view that takes too long, 503
# after RESPONSE_TIMEOUT_SECONDS (above SQLite's 30 s busy timeout, so a slow write finishes).
# A waiting client holds a socket on the event loop, not a thread.
REQUEST_TIMEOUT_SECONDS = 10
RESPONSE_TIMEOUT_SECONDS = 40
SESSION_COOKIE = "staff_session"
SIGNIN_COOKIE = "staff_signin"
MAX_ID = 10**9  # an alert id beyond this is not one of ours (and SQLite's integers end)
OPEN, PAGE, ADMIN, FORM, TOKEN = "open", "page", "admin", "form", "token"
_names = itertools.count(1)


@dataclass
class Call:
    """What a view gets: the request (headers, cookies and form already read), a Store
    opened for this request, the settings, the client's address and the session (None on
    OPEN and TOKEN routes)."""

    request: Request
    store: Store
    settings: Settings
    remote: str
    form: Dict[str, str]
    session: Optional[staff_accounts.Session] = None

    @property
    def user(self) -> str:
        assert self.session is not None
        return self.session.user.name


View = Callable[..., HTTPResponse]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    view: View
    access: str


def authorised(header: str, token: Optional[str]) -> bool:
    """`Authorization: Bearer <STAFF_TOKEN>`, for the machine API only."""
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[7:].encode(), token.encode())


def refused(status: int, message: str) -> HTTPResponse:
    return text(message, status=status)


def set_cookie(call: Call, response: HTTPResponse, name: str, value: str) -> None:
    """A cookie the page's script cannot read and no other site can send."""
    https = call.settings.public_staff_url.startswith("https://") or (
        call.request.headers.get("X-Forwarded-Proto", "").lower() == "https"
    )
    response.cookies[name] = value
    response.cookies[name]["httponly"] = True
    response.cookies[name]["samesite"] = "Strict"
    if https:
        response.cookies[name]["secure"] = True
    if not value:
        response.cookies[name]["max-age"] = 0


# -- views: each runs in a worker thread with its own Store ---------------------------------


def health(call: Call) -> HTTPResponse:
    return text("ok")


def sign_in_form(call: Call) -> HTTPResponse:
    fresh = secrets.token_urlsafe(24)
    response = html(staff_pages.sign_in_page(fresh))
    set_cookie(call, response, SIGNIN_COOKIE, fresh)
    return response


def sign_in(call: Call) -> HTTPResponse:
    expected = call.request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not hmac.compare_digest(
        call.form.get("csrf", "").encode(), expected.encode()
    ):
        return refused(403, "Forbidden")
    name, password = call.form.get("name", ""), call.form.get("password", "")
    result = staff_accounts.sign_in(call.store, call.settings, name, password, call.remote)
    if result.cookie is None:
        error = (
            "Too many wrong passwords: this account is locked for a while."
            if result.locked
            else "That name and password do not match."
        )
        return html(staff_pages.sign_in_page(expected, error), status=401)
    response = redirect("/", status=303)
    set_cookie(call, response, SESSION_COOKIE, result.cookie)
    set_cookie(call, response, SIGNIN_COOKIE, "")
    return response


def sign_out(call: Call) -> HTTPResponse:
    staff_accounts.sign_out(call.store, call.request.cookies.get(SESSION_COOKIE, ""), call.remote)
    response = redirect("/signin", status=303)
    set_cookie(call, response, SESSION_COOKIE, "")
    return response


def queue(call: Call) -> HTTPResponse:
    assert call.session is not None
    rows = alerts.queue(call.store)
    audit.record(call.store, call.user, "viewed queue", detail=str(len(rows)), remote=call.remote)
    admin = call.session.user.role == "admin"
    return html(
        staff_pages.queue_page(rows, call.user, call.session.csrf, figures(call.store), admin)
    )


def audit_log(call: Call) -> HTTPResponse:
    assert call.session is not None
    audit.record(call.store, call.user, "viewed audit log", remote=call.remote)
    rows = audit.rows(call.store, limit=500)
    return html(staff_pages.audit_page(rows, call.user, call.session.csrf))


def alert(call: Call, escalation_id: int) -> HTTPResponse:
    assert call.session is not None
    row = call.store.get(escalation_id) if 0 < escalation_id < MAX_ID else None
    if row is None:
        return refused(404, "Not found")
    store = call.store
    audit.record(store, call.user, "viewed alert", row["id"], remote=call.remote)
    page = staff_pages.alert_page(
        row,
        alerts.conversation(store, row),
        alerts.attempts(store, row["id"]),
        audit.rows(store, row["id"], limit=50),
        call.user,
        call.session.csrf,
        alerts.checkin_answers(store, row),
    )
    return html(page)


def _change(
    call: Call, escalation_id: int, done: Callable[..., bool], **extra: str
) -> HTTPResponse:
    if not 0 < escalation_id < MAX_ID:
        return refused(404, "Not found")
    if not done(call.store, escalation_id, call.user, remote=call.remote, **extra):
        return refused(409, "That alert has changed; reload it")
    return redirect(f"/escalations/{escalation_id}", status=303)


def acknowledge(call: Call, escalation_id: int) -> HTTPResponse:
    return _change(call, escalation_id, alerts.acknowledge)


def resolve(call: Call, escalation_id: int) -> HTTPResponse:
    if call.form.get("outcome") not in alerts.OUTCOMES:
        return refused(400, "Choose an outcome")
    extra = {"outcome": call.form["outcome"], "note": call.form.get("note", "")}
    return _change(call, escalation_id, alerts.resolve, **extra)


def reopen(call: Call, escalation_id: int) -> HTTPResponse:
    return _change(call, escalation_id, alerts.reopen)


def checkins(call: Call, rest: str = "") -> HTTPResponse:
    """The check-in pages: bot/checkins/staff_routes.py routes them below /checkins (the
    access of the route, a session or a session and its form's CSRF token, is checked)."""
    assert call.session is not None
    who = checkin_routes.Viewer(call.user, call.session.csrf, call.remote)
    path = "/checkins" + (f"/{rest}" if rest else "")
    form = call.form if call.request.method == "POST" else None
    reply = checkin_routes.dispatch(call.request.method, path, call.store, call.settings, who, form)
    if reply is None:
        return refused(404, "Not found")
    return HTTPResponse(
        reply.body, status=int(reply.status), headers=reply.headers, content_type=reply.content_type
    )


def api_escalations(call: Call) -> HTTPResponse:
    rows = [summary(row, call.settings) for row in alerts.queue(call.store)]
    audit.record(call.store, "api", "listed alerts", detail=str(len(rows)), remote=call.remote)
    return json(rows)


# -- the routes: the one place to add a page -------------------------------------------------

ROUTES: Tuple[Route, ...] = (
    Route("GET", "/health", health, OPEN),
    Route("GET", "/signin", sign_in_form, OPEN),
    Route("POST", "/signin", sign_in, OPEN),
    Route("POST", "/signout", sign_out, FORM),
    Route("GET", "/", queue, PAGE),
    Route("GET", "/audit", audit_log, ADMIN),
    Route("GET", "/escalations/<escalation_id:int>", alert, PAGE),
    Route("POST", "/escalations/<escalation_id:int>/ack", acknowledge, FORM),
    Route("POST", "/escalations/<escalation_id:int>/resolve", resolve, FORM),
    Route("POST", "/escalations/<escalation_id:int>/reopen", reopen, FORM),
    Route("GET", "/api/escalations", api_escalations, TOKEN),
    Route("GET", "/checkins", checkins, PAGE),
    Route("GET", "/checkins/<rest:path>", checkins, PAGE),
    Route("POST", "/checkins/<rest:path>", checkins, FORM),
)


# -- plumbing --------------------------------------------------------------------------------


def remote_address(request: Request, settings: Settings) -> str:
    """The client's address for the audit log: the peer's, or behind a proxy in
    STAFF_TRUSTED_PROXIES the last address that proxy put in X-Forwarded-For."""
    peer = str(request.ip)
    forwarded = request.headers.get("X-Forwarded-For", "")
    if peer in settings.staff_trusted_proxies and forwarded.strip():
        return forwarded.split(",")[-1].strip()[:64]
    return peer


def _guarded(route: Route, call: Call, params: Dict[str, Any]) -> HTTPResponse:
    """Check the route's access, then run its view (in a worker thread)."""
    request, settings = call.request, call.settings
    if route.access == TOKEN:
        if not authorised(request.headers.get("Authorization", ""), settings.staff_token):
            return refused(401, "Unauthorized")
    elif route.access != OPEN:
        # the queue's own reloads are not activity, so an unattended queue still signs out
        touch = request.query_string != staff_pages.AUTO_REFRESH
        cookie = request.cookies.get(SESSION_COOKIE, "")
        call.session = staff_accounts.session(call.store, settings, cookie, touch)
        if route.access == FORM:
            sent = call.form.get("csrf", "").encode()
            if call.session is None or not hmac.compare_digest(sent, call.session.csrf.encode()):
                return refused(403, "Forbidden")
        elif call.session is None:
            return redirect("/signin", status=303)
        elif route.access == ADMIN and call.session.user.role != "admin":
            return refused(403, "Admins only")
    return route.view(call, **params)


def _run(
    route: Route, request: Request, settings: Settings, form: Dict[str, str], params: Any
) -> HTTPResponse:
    store = open_store(request.app.ctx.db_path)  # PostgreSQL when DATABASE_URL is set
    try:
        call = Call(request, store, settings, remote_address(request, settings), form)
        return _guarded(route, call, params)
    finally:
        store.close()


def _handler(route: Route, settings: Settings) -> Callable[..., Any]:
    async def handle(request: Request, **params: Any) -> HTTPResponse:
        form: Dict[str, str] = {}
        if request.method == "POST":
            # read on the loop: an application/x-www-form-urlencoded body within the limit
            form = {key: values[0] for key, values in request.form.items()}
        work = functools.partial(_run, route, request, settings, form, params)
        return await asyncio.get_running_loop().run_in_executor(None, work)

    handle.__name__ = route.view.__name__
    return handle


def create_app(settings: Settings, db_path: Optional[Path] = None) -> Sanic:
    """The staff pages' app, reading and writing the SQLite file at `db_path`, or by default
    the store by settings (ASSISTANT_DB's file, or PostgreSQL when DATABASE_URL is set)."""
    app = Sanic(f"staff_{next(_names)}", configure_logging=False)
    app.config.update(
        {
            "ACCESS_LOG": False,  # no request lines in the logs (the views log nothing either)
            "MOTD": False,
            "REQUEST_MAX_SIZE": MAX_FORM_BYTES,  # a bigger body gets 413, unread
            "REQUEST_TIMEOUT": REQUEST_TIMEOUT_SECONDS,  # a client that stops sending is cut off
            "RESPONSE_TIMEOUT": RESPONSE_TIMEOUT_SECONDS,
            "KEEP_ALIVE_TIMEOUT": 5,
            "FALLBACK_ERROR_FORMAT": "text",
        }
    )
    app.ctx.db_path = Path(db_path) if db_path else None  # None: the store by settings
    for number, route in enumerate(ROUTES):
        app.add_route(
            _handler(route, settings),
            route.path,
            methods=[route.method],
            name=f"{route.view.__name__}_{route.method.lower()}_{number}",  # names are unique
        )

    @app.signal("http.lifecycle.request")
    async def refuse_a_bad_length(request: Request) -> None:
        # Sanic 21.12 takes int() of Content-Length as it comes: "-1" would leave it
        # waiting for a body that never ends, and "abc" would be a 500. A form is a few
        # digits' worth of bytes; anything else is refused before the body is read.
        declared = request.headers.get("content-length")
        if declared is not None and not re.fullmatch(r"[0-9]{1,9}", declared.strip()):
            raise InvalidUsage("Bad request")

    @app.exception(SanicException)
    async def plain_error(request: Request, error: SanicException) -> HTTPResponse:
        status = getattr(error, "status_code", 500) or 500
        return refused(status, "Bad request" if status == 400 else str(error))

    @app.on_response
    async def security_headers(request: Request, response: HTTPResponse) -> None:
        for key, value in HEADERS.items():
            response.headers.setdefault(key, value)

    return app
