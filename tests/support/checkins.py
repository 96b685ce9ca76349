"""A check-in programme under way, for the staff page tests: enrolled for a procedure on
Monday 1 June 2026 at 10:30 in Chicago, the evening answered 4, day 2 answered 8 (a call),
day 7 sent, reminded and missed (on the call list)."""

from __future__ import annotations

from typing import List

from bot.checkins.inbound import Replies
from bot.checkins.schedule import load_schedule
from bot.checkins.sender import run_due
from bot.checkins.store import CheckinStore
from bot.settings import get_settings
from bot.store import Store
from tests.support.clock import FakeClock, at

ZONE = "America/Chicago"
PROCEDURE = "2026-06-01 10:30"


def _send(to: str, body: str) -> List[str]:
    return ["SM-unsent"]


def under_way(store: Store, clock: FakeClock, enrolment_id: int, phone: str) -> None:
    """Take the programme `enrolment_id` of `phone` through its first week (see above)."""
    schedule = load_schedule()
    assert CheckinStore(store).enrolment(enrolment_id)
    for when, reply in (("2026-06-01 18:00", "4"), ("2026-06-03 10:30", "8")):
        clock.set(at(when, ZONE))
        run_due(store, get_settings(), clock, send=_send)
        Replies(store, get_settings(), schedule, clock).handle(phone, reply, f"SM{when}")
    for when in ("2026-06-08 10:00", "2026-06-09 10:00", "2026-06-10 10:01"):
        clock.set(at(when, ZONE))
        run_due(store, get_settings(), clock, send=_send)


def enrol_under_way(store: Store, phone: str, by: str = "RN Test") -> int:
    """Enrol `phone` at the procedure time and take it through its first week."""
    clock = FakeClock(at(PROCEDURE, ZONE))
    enrolment_id = CheckinStore(store).enrol(
        phone=phone,
        procedure="kyphoplasty",
        procedure_at=at(PROCEDURE, ZONE),
        zone=ZONE,
        enrolled_by=by,
        schedule=load_schedule(),
        now=clock(),
    )
    under_way(store, clock, enrolment_id, phone)
    return enrolment_id
