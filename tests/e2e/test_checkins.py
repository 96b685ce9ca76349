"""One whole check-in programme end to end: the real Rasa server (SMS channel), action server
and worker, a fake Twilio Messages API for the texts the worker sends, Twilio-signed webhooks
(Twilio's own RequestValidator) for the patients' replies, and the staff pages over HTTP.

The servers' clock is the clock file (`ASSISTANT_CLOCK_FILE`, bot/clock.py): the test writes
a time and every process reads it. Two patients are enrolled on the staff page for a
procedure at 07:15 on the first Monday of March next year (Chicago; daylight saving time
starts in the middle of the programme). One answers every check-in, in the ways patients
write ("can I shower yet?", "2", "seven", "worse", "7/10", "my legs are numb and weak"); the
other never answers. The clock visits each moment something is due (and a minute before it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List
from zoneinfo import ZoneInfo

import pytest

from bot.checkins import overview
from bot.checkins.schedule import fill, load_schedule
from bot.checkins.store import CheckinStore
from bot.servers import Servers
from bot.settings import PROJECT_ROOT
from bot.store import Store
from tests.support import profiles
from tests.support.fake_twilio import FakeTwilio
from tests.support.loopback import free_port
from tests.support.receivers import WebhookReceiver
from tests.support.servers import LoggedServers, e2e_env
from tests.support.staff_client import StaffClient, add_staff
from tests.support.twilio_webhook import Sms
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.model]

ZONE = "America/Chicago"
TALKS = "+15555550141"  # answers every check-in
SILENT = "+15555550142"  # never answers
QUIET_SECONDS = 1.5  # five worker cycles: long enough for a text that should not come


def first_monday_of_march_next_year() -> date:
    day = date(date.today().year + 1, 3, 1)
    return day + timedelta(days=(7 - day.weekday()) % 7)


class ClockFile:
    """The servers' clock: written whole (a reader never sees half a time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.now = datetime.now(timezone.utc)

    def set(self, moment: datetime) -> datetime:
        self.now = moment.astimezone(timezone.utc)
        scratch = self.path.with_suffix(".new")
        scratch.write_text(self.now.isoformat())
        os.replace(scratch, self.path)
        return self.now


class Programme:
    """The running servers, their database, clock, fake Twilio and staff page."""

    def __init__(self, servers: Servers, twilio: FakeTwilio, clock: ClockFile) -> None:
        self.servers = servers
        self.twilio = twilio
        self.clock = clock
        self.db = Path(servers.env["ASSISTANT_DB"])
        self.sms = Sms(servers.rasa_port)
        self.staff_url = f"http://127.0.0.1:{servers.env['STAFF_PORT']}"

    def store(self) -> Store:
        return profiles.store_of(self.servers.env)

    def checkins(self) -> CheckinStore:
        return CheckinStore(self.store())

    def nurse(self) -> StaffClient:
        client = StaffClient(self.staff_url)
        assert client.sign_in("ana") == 303
        return client

    def bodies(self, phone: str) -> List[str]:
        return [m.body for m in self.twilio.to(phone)]

    def quiet(self, *phones: str) -> None:
        """No new text to `phones` for five worker cycles."""
        before = {p: len(self.twilio.to(p)) for p in phones}
        time.sleep(QUIET_SECONDS)
        assert {p: len(self.twilio.to(p)) for p in phones} == before

    def expect_texts(self, counts: Dict[str, int]) -> None:
        wait_until(lambda: all(len(self.twilio.to(p)) >= n for p, n in counts.items()), 30)
        time.sleep(QUIET_SECONDS)  # and no more than that
        assert {p: len(self.twilio.to(p)) for p in counts} == counts

    def checkin(self, phone: str, key: str) -> Dict[str, Any]:
        checkins = self.checkins()
        enrolment = checkins.rows(
            "select id from checkin_enrolments where phone = ? order by id desc", [phone]
        )[0]
        [row] = [r for r in checkins.checkins(int(enrolment["id"])) if r["key"] == key]
        return row

    def handle(self, escalation_id: int, minutes: int) -> None:
        """A nurse acknowledges the alert `minutes` after it was raised, then resolves it."""
        row = self.store().get(escalation_id)
        assert row is not None
        self.clock.set(datetime.fromisoformat(row["created_at"]) + timedelta(minutes=minutes))
        nurse = self.nurse()
        nurse.get(f"/escalations/{escalation_id}")
        token = nurse.csrf()
        assert nurse.post(f"/escalations/{escalation_id}/ack", {"csrf": token})[0] == 303
        form = {"csrf": token, "outcome": "reached_advised", "note": "called back"}
        assert nurse.post(f"/escalations/{escalation_id}/resolve", form)[0] == 303


@pytest.fixture(scope="module")
def programme(
    trained_model: Path,
    tmp_path_factory: pytest.TempPathFactory,
    webhook: WebhookReceiver,
    servers_database: Callable[[], str],
) -> Iterator[Programme]:
    """Servers of their own (their own database, clock file and fake Twilio)."""
    folder = tmp_path_factory.mktemp("checkins-e2e")
    clock = ClockFile(folder / "clock")
    twilio = FakeTwilio().start()
    action_port = free_port()
    env = e2e_env(
        folder / "assistant.db",
        action_port,
        webhook.url,
        twilio.url,
        {
            "ASSISTANT_CLOCK_FILE": str(clock.path),
            "CLINIC_TIMEZONE": ZONE,
            "DATABASE_URL": servers_database(),
        },
    )
    add_staff(profiles.store_of(env), "ana", "nurse")
    running = LoggedServers(free_port(), action_port, env)
    log = folder / "servers.log"
    with log.open("w", buffering=1) as out:
        running.out = out
        try:
            running.start_actions()
            running.start_worker()
            running.start_rasa()
            yield Programme(running, twilio, clock)
        finally:
            running.stop()
            twilio.stop()
    assert "Traceback" not in log.read_text(), f"a server failed: see {log}"


def enrol_on_the_staff_page(programme: Programme, phone: str, day: date) -> int:
    nurse = programme.nurse()
    assert nurse.get("/checkins/new")[0] == 200
    form = {"csrf": nurse.csrf(), "phone": phone, "procedure": "kyphoplasty",
            "date": day.isoformat(), "time": "07:15", "timezone": ""}  # fmt: skip
    status, head, _ = nurse.post("/checkins/new", form)
    assert status == 303, nurse.body
    return int(head["Location"].rsplit("/", 1)[1])


def figures_from_the_command_line(programme: Programme) -> Dict[str, Any]:
    env = {**programme.servers.env, "ASSISTANT_DB": str(programme.db)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "checkins", "figures", "--json"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_a_whole_programme_by_sms(programme: Programme) -> None:
    schedule = load_schedule()
    clock, sms = programme.clock, programme.sms
    day = first_monday_of_march_next_year()
    procedure = datetime.combine(day, datetime.min.time().replace(hour=7, minute=15))
    clock.set(procedure.replace(tzinfo=ZoneInfo(ZONE)) - timedelta(hours=1))

    # -- enrolment on the staff page, by the signed-in nurse, in the clinic's time zone
    talks = enrol_on_the_staff_page(programme, TALKS, day)
    silent = enrol_on_the_staff_page(programme, SILENT, day)
    enrolment = programme.checkins().enrolment(talks)
    assert enrolment and enrolment["enrolled_by"] == "ana" and enrolment["timezone"] == ZONE
    due = {row["key"]: datetime.fromisoformat(row["due_at"]) for row in
           programme.checkins().checkins(talks)}  # fmt: skip
    walls = {key: f"{m.astimezone(ZoneInfo(ZONE)):%H:%M}" for key, m in due.items()}
    # day 2 is due at the procedure's own time, 07:15, before the window opens: 08:00
    assert walls == {"evening": "18:00", "day2": "08:00", "day7": "10:00", "day14": "10:00",
                     "week6": "10:00"}  # fmt: skip
    offsets = {m.astimezone(ZoneInfo(ZONE)).utcoffset() for m in due.values()}
    assert len(offsets) == 2  # the programme crosses the change to daylight saving time
    both = (TALKS, SILENT)
    expected = {TALKS: 0, SILENT: 0}

    def at_due(key: str, reminders: bool = True) -> None:
        """A minute before `key` is due nothing comes; at the time, each patient's text."""
        clock.set(due[key] - timedelta(minutes=1))
        programme.quiet(*both)
        clock.set(due[key])
        expected[TALKS] += 1 + (key == "evening")  # the intro goes first, once
        expected[SILENT] += 1 + (key == "evening")
        programme.expect_texts(expected)
        question = programme.bodies(TALKS)[-1]
        entry = schedule.entry(key)
        assert fill(entry.question) in question and programme.bodies(SILENT)[-1] == question
        assert programme.checkin(TALKS, key)["sent_at"] == due[key].isoformat()

    def silence_after(key: str, last_call: bool = False, room: bool = True) -> None:
        """The silent patient's reminder after 24 hours, then (unless the next check-in
        comes first and closes it) missed 24 hours later. Without `room` in the week's
        limit, no reminder: missed when the limits give up (72 hours)."""
        reminder = due[key] + schedule.limits.reminder_after
        clock.set(reminder - timedelta(minutes=1))
        programme.quiet(*both)
        clock.set(reminder)
        if not room:
            programme.quiet(*both)
            clock.set(due[key] + schedule.limits.give_up - timedelta(minutes=1))
            programme.quiet(*both)
            assert programme.checkin(SILENT, key)["status"] == "sent"
            clock.set(due[key] + schedule.limits.give_up)
            wait_until(lambda: programme.checkin(SILENT, key)["status"] == "missed")
            programme.quiet(*both)
            return
        expected[SILENT] += 1
        programme.expect_texts(expected)
        assert programme.bodies(SILENT)[-1].startswith("Reminder: ")
        missed = reminder + schedule.limits.missed_after
        if any(due[key] < other <= missed for other in due.values()):
            return
        clock.set(missed)
        wait_until(lambda: programme.checkin(SILENT, key)["status"] == "missed")
        if last_call:
            expected[SILENT] += 1
            programme.expect_texts(expected)
            assert "Do you need help, or should we stop?" in programme.bodies(SILENT)[-1]
        else:
            programme.quiet(*both)

    def answer(text: str) -> str:
        clock.set(clock.now + timedelta(minutes=5))
        return sms.text(TALKS, text)

    def alert_of(key: str) -> int:
        row = wait_until(lambda: programme.checkin(TALKS, key)["escalation_id"])
        return int(row)

    # -- the evening: the intro, then the pain question ----------------------------------
    clock.set(procedure.replace(tzinfo=ZoneInfo(ZONE)))
    programme.quiet(*both)
    at_due("evening")
    intro = programme.bodies(TALKS)[0]
    assert "Reply STOP to end, HELP for help" in intro and "5 short questions over 6 weeks" in intro
    # a question is answered by the assistant, then the check-in asks again
    reply = answer("can I shower yet?")
    assert "shower" in reply.lower()
    assert fill(schedule.resume) in reply and schedule.answers["pain"]["how"] in reply
    assert programme.checkin(TALKS, "evening")["status"] == "sent"
    # "2" is the pain score: the day's advice, no call
    reply = answer("2")
    assert reply == fill(schedule.entry("evening").reply)
    row = programme.checkin(TALKS, "evening")
    assert (row["status"], row["answer_kind"], row["answer_value"], row["alert"]) == (
        "answered", "pain", "2", 0,
    )  # fmt: skip
    silence_after("evening")
    assert overview.call_list(programme.store()) == []

    # -- day 2: "seven" is 7 out of 10, at the line and up 5: a call ---------------------
    at_due("day2")
    # the newer check-in closes the unanswered evening one: missed in the first week, the
    # silent patient is on the call list
    assert programme.checkin(SILENT, "evening")["status"] == "missed"
    [call] = overview.call_list(programme.store())
    assert call["phone"] == SILENT and [m["key"] for m in call["missed"]] == ["evening"]
    reply = answer("seven")
    assert reply == fill(schedule.alert_reply)
    escalation = programme.store().get(alert_of("day2"))
    assert escalation and escalation["tier"] == "callback" and escalation["source"] == "checkins"
    assert "pain 7/10" in escalation["message"] and escalation["callback_number"] == TALKS
    programme.handle(escalation["id"], minutes=120)
    # the evening, its reminder and day 2 are three texts in a week: no room for a reminder
    silence_after("day2", room=False)

    # -- day 7 (a choice): "worse" needs a call ------------------------------------------
    at_due("day7")
    assert schedule.answers["choice"]["how"] in programme.bodies(TALKS)[-1]
    assert answer("worse") == fill(schedule.alert_reply)
    assert programme.checkin(TALKS, "day7")["answer_value"] == "worse"
    programme.handle(alert_of("day7"), minutes=60)
    silence_after("day7", last_call=True)  # three missed in a row: the last call

    # a worker restart between check-ins loses nothing and sends nothing twice
    programme.servers.stop("worker")
    programme.servers.start_worker()

    # -- day 14, after the clock change, still at 10:00: "7/10" is a warning sign --------
    at_due("day14")
    reply = answer("7/10")
    assert "sent this to the care team" in reply  # the assistant's urgent advice
    row = programme.checkin(TALKS, "day14")
    assert (row["answer_kind"], row["answer_value"], row["alert"]) == ("red_flag", "urgent", 1)
    escalation = programme.store().get(alert_of("day14"))
    assert escalation and escalation["tier"] == "urgent" and "severe_pain" in escalation["symptoms"]
    programme.handle(escalation["id"], minutes=10)
    silence_after("day14")

    # -- week 6 (a choice): a red flag gets urgent advice and an escalation ---------------
    at_due("week6")
    reply = answer("my legs are numb and weak")
    assert "sent this to the care team" in reply
    escalation = programme.store().get(alert_of("week6"))
    assert escalation and escalation["tier"] == "urgent"
    assert {"numbness", "weakness"} <= set(escalation["symptoms"])
    programme.handle(escalation["id"], minutes=5)
    silence_after("week6")

    # -- the end: both programmes complete, every text once, none in quiet hours ---------
    checkins = programme.checkins()
    assert checkins.enrolment(talks)["status"] == "completed"
    assert checkins.enrolment(silent)["status"] == "completed"
    kinds = {
        phone: [t["kind"] for t in checkins.texts(number)]
        for phone, number in ((TALKS, talks), (SILENT, silent))
    }
    assert kinds[TALKS] == ["intro", "checkin", "checkin", "checkin", "checkin", "checkin"]
    assert kinds[SILENT] == [
        "intro", "checkin", "reminder", "checkin", "checkin", "reminder", "last_call",
        "checkin", "reminder", "checkin", "reminder",
    ]  # fmt: skip
    for phone, number in ((TALKS, talks), (SILENT, silent)):
        texts = checkins.texts(number)
        assert len(programme.twilio.to(phone)) == len(texts)
        assert all(t["status"] == "sent" for t in texts)
        for text in texts:
            wall = datetime.fromisoformat(text["sent_at"]).astimezone(ZoneInfo(ZONE)).time()
            assert schedule.limits.window_start <= wall < schedule.limits.window_end
    [call] = overview.call_list(programme.store())
    assert call["phone"] == SILENT
    assert [m["key"] for m in call["missed"]] == ["evening", "day2", "day7", "day14", "week6"]

    # -- what the staff read --------------------------------------------------------------
    nurse = programme.nurse()
    status, _, body = nurse.get("/checkins")
    assert status == 200 and f"href='tel:{SILENT}'" in body and "Call list: no answer (1)" in body
    status, _, body = nurse.get(f"/checkins/{talks}")
    assert status == 200 and body.count("class='score'") == 2  # evening 2, day 2 seven
    found = figures_from_the_command_line(programme)
    assert found["per_checkin"]["evening"]["reply_rate"] == 0.5
    assert found["all"] == {"went_out": 10, "answered": 5, "missed": 5, "alerts": 9,
                            "reply_rate": 0.5, "alert_rate": 0.9}  # fmt: skip
    # the nurse took 120, 60, 10 and 5 minutes; the silent patient's alert still waits
    assert found["alerts"]["acknowledged"] == 4 and found["alerts"]["waiting_now"] == 1
    assert found["alerts"]["median_minutes_to_acknowledge"] == 10.0
    assert found["alerts"]["p90_minutes_to_acknowledge"] == 120.0
