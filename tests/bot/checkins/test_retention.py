"""Check-ins under RETENTION_DAYS: ended programmes lose the patient's words and number."""

from __future__ import annotations

from datetime import timedelta

from bot.checkins.inbound import Replies
from bot.checkins.sender import run_due
from bot.retention import purge
from bot.settings import get_settings
from tests.bot.checkins.conftest import ZONE, Recorder
from tests.support.clock import at
from tests.support.sms import PATIENT


def test_an_ended_programme_is_redacted_after_the_retention_period(
    store, clock, enrolled, checkins, schedule
):
    clock.set(at("2026-06-01 18:00", ZONE))
    run_due(store, get_settings(), clock, send=Recorder())
    Replies(store, get_settings(), schedule, clock).handle(PATIENT, "3, sore", "SM1")
    week6 = at("2026-07-13 10:00", ZONE)
    assert (
        purge(store, get_settings(), (week6 + timedelta(days=31)).timestamp())["checkins_redacted"]
        == 0
    )  # still active
    checkins.stop(enrolled, "RN", "done", clock())
    assert (
        purge(store, get_settings(), (week6 + timedelta(days=29)).timestamp())["checkins_redacted"]
        == 0
    )  # ended, but not yet 30 days after its last check-in
    counts = purge(store, get_settings(), (week6 + timedelta(days=31)).timestamp())
    assert counts["checkins_redacted"] == 1
    [reply] = checkins.replies(enrolled)
    assert reply["text"] is None and reply["value"] == "3"
    assert checkins.enrolment(enrolled)["phone"] == "redacted"
    assert checkins.checkins(enrolled)[0]["answer_value"] == "3"
