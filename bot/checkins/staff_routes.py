"""The check-ins' routes on the staff pages, apart from any web framework.

Each handler takes the store, the settings, who is signed in (`Viewer`: name, CSRF token,
client address) and, for a form, its fields, and returns a `Reply` (status, body, content
type, extra headers) for the server to send with its usual headers (CSP, no-store). The
server has already checked the session and, for every POST, the CSRF token. Every view and
change leaves an audit row (`bot.audit`); the rows name a programme, never a number.

| method | path                     | handler      |
| ------ | ------------------------ | ------------ |
| GET    | /checkins                | `list_view`  |
| GET    | /checkins/new            | `enrol_form` |
| GET    | /checkins/export.csv     | `export`     |
| GET    | /checkins/<id>           | `programme`  |
| POST   | /checkins/new            | `enrol`      |
| POST   | /checkins/<id>/stop      | `stop`       |
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Callable, Dict, Optional, Tuple

from bot import audit
from bot.checkins import overview, pages
from bot.checkins.report import clinic_figures, export_csv
from bot.checkins.schedule import Schedule, load_schedule
from bot.checkins.store import CheckinStore
from bot.clock import Clock, system_clock
from bot.settings import Settings
from bot.store import Store

HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
CSV = "text/csv; charset=utf-8"
STOP_REASON = "stopped on the staff page"


@dataclass(frozen=True)
class Viewer:
    """Who is signed in: their name (recorded as who enrolled or stopped), the session's CSRF
    token (for the page's forms) and the client's address (for the audit log)."""

    name: str
    csrf: str
    remote: str


@dataclass(frozen=True)
class Reply:
    status: int
    body: str = ""
    content_type: str = HTML
    headers: Dict[str, str] = field(default_factory=dict)


def _see(where: str) -> Reply:
    return Reply(HTTPStatus.SEE_OTHER, "", TEXT, {"Location": where})


def _programme_words(schedule: Schedule) -> str:
    keys = ", ".join(entry.key for entry in schedule.entries)
    return f"{len(schedule.entries)} short texts over {schedule.weeks} weeks ({keys})"


def _window(schedule: Schedule) -> str:
    limits = schedule.limits
    return f"{limits.window_start:%H:%M} to {limits.window_end:%H:%M}"


# -- GET ------------------------------------------------------------------------------


def list_view(store: Store, settings: Settings, who: Viewer) -> Reply:
    """The call list, every enrolled patient and the figures."""
    programmes = overview.programmes(store)
    calls = overview.call_list(store)
    audit.record(
        store,
        who.name,
        "viewed check-ins",
        detail=f"{len(programmes)} programmes, {len(calls)} to call",
        remote=who.remote,
    )
    found = clinic_figures(CheckinStore(store))
    return Reply(HTTPStatus.OK, pages.list_page(programmes, calls, found, who.name, who.csrf))


def programme(store: Store, settings: Settings, who: Viewer, enrolment_id: int) -> Reply:
    """One programme: check-ins, answers, the pain chart, alerts, the stop button."""
    found = overview.programme(store, load_schedule(), enrolment_id)
    if found is None:
        return Reply(HTTPStatus.NOT_FOUND, "Not found", TEXT)
    audit.record(
        store, who.name, "viewed check-in programme", detail=f"programme #{enrolment_id}",
        remote=who.remote,
    )  # fmt: skip
    return Reply(HTTPStatus.OK, pages.programme_page(found, who.name, who.csrf))


def enrol_form(store: Store, settings: Settings, who: Viewer) -> Reply:
    """The empty enrol form (the time zone filled with CLINIC_TIMEZONE)."""
    audit.record(store, who.name, "opened the enrol form", remote=who.remote)
    schedule = load_schedule()
    page = pages.enrol_page(
        None, settings.clinic_timezone, who.name, who.csrf, _programme_words(schedule),
        _window(schedule),
    )  # fmt: skip
    return Reply(HTTPStatus.OK, page)


def export(store: Store, settings: Settings, who: Viewer) -> Reply:
    """Every check-in as CSV (the same file as `python -m bot checkins export`)."""
    out = io.StringIO()
    count = export_csv(CheckinStore(store), out)
    audit.record(store, who.name, "exported check-ins", detail=f"{count} rows", remote=who.remote)
    return Reply(
        HTTPStatus.OK,
        out.getvalue(),
        CSV,
        {"Content-Disposition": 'attachment; filename="checkins.csv"'},
    )


# -- POST -----------------------------------------------------------------------------


def enrol(
    store: Store,
    settings: Settings,
    who: Viewer,
    form: Dict[str, str],
    clock: Clock = system_clock,
) -> Reply:
    """Enrol from the form, as the signed-in staff member; the form again, with what to
    change, when it is refused (400)."""
    schedule = load_schedule()
    result = overview.enrol_form(
        store,
        form,
        enrolled_by=who.name,
        default_zone=settings.clinic_timezone,
        schedule=schedule,
        clock=clock,
        remote=who.remote,
    )
    if result.enrolment_id is not None:
        return _see(f"/checkins/{result.enrolment_id}")
    audit.record(
        store, who.name, "enrolment refused", detail="to change: " + ", ".join(result.errors),
        remote=who.remote,
    )  # fmt: skip
    page = pages.enrol_page(
        result, settings.clinic_timezone, who.name, who.csrf, _programme_words(schedule),
        _window(schedule),
    )  # fmt: skip
    return Reply(HTTPStatus.BAD_REQUEST, page)


def stop(
    store: Store,
    settings: Settings,
    who: Viewer,
    enrolment_id: int,
    form: Dict[str, str],
    clock: Clock = system_clock,
) -> Reply:
    """Stop an active programme: every check-in not yet done is cancelled."""
    reason = " ".join((form.get("reason") or "").split())[:200] or STOP_REASON
    checkins = CheckinStore(store)
    if checkins.enrolment(enrolment_id) is None:
        return Reply(HTTPStatus.NOT_FOUND, "Not found", TEXT)
    if not checkins.stop(enrolment_id, who.name, reason, clock(), audit_remote=who.remote):
        return Reply(HTTPStatus.CONFLICT, "That programme is not active any more; reload it", TEXT)
    return _see(f"/checkins/{enrolment_id}")


# -- for a server without its own router (bot/staff.py) ---------------------------------

Handler = Callable[..., Reply]
ROUTES: Tuple[Tuple[str, re.Pattern[str], Handler], ...] = (
    ("GET", re.compile(r"/checkins"), list_view),
    ("GET", re.compile(r"/checkins/new"), enrol_form),
    ("GET", re.compile(r"/checkins/export\.csv"), export),
    ("GET", re.compile(r"/checkins/(\d{1,9})"), programme),
    ("POST", re.compile(r"/checkins/new"), enrol),
    ("POST", re.compile(r"/checkins/(\d{1,9})/stop"), stop),
)


def dispatch(
    method: str,
    path: str,
    store: Store,
    settings: Settings,
    who: Viewer,
    form: Optional[Dict[str, str]] = None,
) -> Optional[Reply]:
    """The reply of the route `method` `path` matches; None when it is not a check-in route."""
    for verb, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if verb != method or not match:
            continue
        ids = [int(group) for group in match.groups()]
        extra = [form or {}] if method == "POST" else []
        return handler(store, settings, who, *ids, *extra)
    return None
