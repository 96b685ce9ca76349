"""The worker's check-in job: the right texts at the right local times, exactly once.

Real SQLite, the fake clock, and the outbound SMS sender talking to the fake Twilio API
(or a recording send function where only the schedule's logic is under test)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.channels.sms_store import get_sms_store
from bot.checkins.enrol import enrol
from bot.checkins.schedule import load_schedule
from bot.checkins.sender import Sender, run_due
from bot.settings import get_settings
from bot.tiers import CALLBACK
from tests.bot.checkins.conftest import PROCEDURE, ZONE, Recorder
from tests.support.clock import at
from tests.support.sms import PATIENT


def statuses(checkins, enrolment_id):
    return {r["key"]: r["status"] for r in checkins.checkins(enrolment_id)}


def walk(store, clock, send, until, step_minutes=15, schedule=None):
    """Run the job every `step_minutes` until `until`; (local time, body) of each text."""
    sent = []
    while clock.now < until:
        clock.advance(minutes=step_minutes)
        before = len(send.sent)
        run_due(store, get_settings(), clock, schedule=schedule, send=send)
        sent += [(clock.local(ZONE), body) for _, body in send.sent[before:]]
    return sent


def test_the_first_check_in_goes_out_in_the_evening_with_the_intro(
    twilio, store, clock, enrolled, cycle, checkins
):
    clock.set(at("2026-06-01 17:59", ZONE))
    cycle()
    assert not twilio.sent
    clock.set(at("2026-06-01 18:00", ZONE))
    assert cycle()["sent"] == 1
    intro, question = [m.body for m in twilio.to(PATIENT)]
    clinic = get_settings().clinic_name
    assert intro.startswith(f"Hi, this is {clinic}.") and "5 short questions over 6 weeks" in intro
    assert "Reply STOP to end, HELP for help." in intro
    assert "How is your back pain tonight?" in question and "0 (none) to 10 (worst)" in question
    assert all(len(body) <= 160 for body in (intro, question))
    assert statuses(checkins, enrolled)["evening"] == "sent"
    cycle()
    assert len(twilio.sent) == 2  # nothing twice


def test_none_in_quiet_hours_a_late_procedure_waits_for_the_morning(store, clock, checkins):
    send = Recorder()
    enrol(store, phone=PATIENT, procedure="vertebroplasty", when="2026-06-01 19:30", zone=ZONE,
          enrolled_by="RN", clock=clock)  # fmt: skip
    clock.set(at("2026-06-01 19:30", ZONE))
    sent = walk(store, clock, send, at("2026-06-02 12:00", ZONE))
    [(when, body)] = [s for s in sent if "pain" in s[1]]
    assert when.strftime("%H:%M") == "08:00"


def test_a_check_in_that_missed_the_window_waits_for_the_next_morning(store, clock, enrolled):
    send = Recorder()
    clock.set(at("2026-06-01 21:05", ZONE))  # the worker was down at 18:00
    run_due(store, get_settings(), clock, send=send)
    assert not send.sent
    clock.set(at("2026-06-02 08:00", ZONE))
    run_due(store, get_settings(), clock, send=send)
    assert len(send.sent) == 2  # the intro and the evening check-in


def test_a_check_in_that_could_not_go_out_for_a_day_is_dropped(store, clock, enrolled, checkins):
    send = Recorder()
    clock.set(at("2026-06-02 20:00", ZONE))  # 26 hours after it was due
    run_due(store, get_settings(), clock, send=send)
    assert not send.sent and statuses(checkins, enrolled)["evening"] == "expired"


def test_the_whole_programme_keeps_the_day_and_week_limits(store, clock, enrolled, checkins):
    send = Recorder()
    sent = walk(store, clock, send, at("2026-07-20 12:00", ZONE), step_minutes=30)
    days = [when.date() for when, body in sent if not body.startswith("Hi,")]
    assert len(days) == len(set(days)), "two check-in texts on one day"
    for day in days:
        assert sum(1 for d in days if day - timedelta(days=6) <= d <= day) <= 3
    for when, _ in sent:
        assert 8 <= when.hour < 21
    assert set(statuses(checkins, enrolled).values()) <= {"missed", "expired"}
    assert checkins.enrolment(enrolled)["status"] == "completed"


def test_silence_after_the_check_in_and_its_reminder_puts_the_patient_on_the_call_list(
    store, clock, enrolled, checkins
):
    send = Recorder()
    clock.set(at("2026-06-01 18:00", ZONE))
    run_due(store, get_settings(), clock, send=send)
    clock.set(at("2026-06-02 18:00", ZONE))
    run_due(store, get_settings(), clock, send=send)
    assert send.sent[-1][1].startswith("Reminder: ")
    assert not store.list()
    clock.set(at("2026-06-03 10:29", ZONE))
    run_due(store, get_settings(), clock, send=send)
    assert not store.list()
    clock.set(at("2026-06-03 10:30", ZONE))  # day 2 goes out: the evening one is missed
    run_due(store, get_settings(), clock, send=send)
    [escalation] = store.list()
    assert escalation["tier"] == CALLBACK and escalation["source"] == "checkins"
    assert escalation["callback_number"] == PATIENT
    assert escalation["sender"] == f"sms:{PATIENT}" and "no answer" in escalation["message"]
    assert statuses(checkins, enrolled)["evening"] == "missed"


def test_stop_ends_the_texts_and_start_resumes_the_later_ones(
    twilio, store, clock, enrolled, checkins, cycle
):
    get_sms_store().opt_out(PATIENT, "STOP")
    clock.set(at("2026-06-01 18:00", ZONE))
    cycle()
    assert not twilio.sent and statuses(checkins, enrolled)["evening"] == "cancelled"
    get_sms_store().opt_in(PATIENT)
    clock.set(at("2026-06-03 10:30", ZONE))
    cycle()
    assert len(twilio.to(PATIENT)) == 2  # the intro (never sent before) and day 2
    assert statuses(checkins, enrolled)["day2"] == "sent"


def test_a_twilio_error_leaves_the_check_in_queued_and_it_goes_out_once(
    twilio, store, clock, enrolled, checkins, cycle
):
    clock.set(at("2026-06-01 18:00", ZONE))
    twilio.status = 500
    assert cycle()["failed"] == 1
    assert statuses(checkins, enrolled)["evening"] == "scheduled"
    twilio.status = 201
    cycle()
    assert not twilio.sent  # waits before trying again
    clock.advance(minutes=2)
    cycle()
    clock.advance(minutes=5)
    cycle()
    assert len(twilio.to(PATIENT)) == 2 and statuses(checkins, enrolled)["evening"] == "sent"


class Crash(BaseException):
    """The worker process dying in the middle of a send."""


def test_a_worker_restart_in_the_middle_of_a_send_never_texts_twice(
    store, clock, enrolled, checkins
):
    accepted = []

    def dies_after_twilio_took_it(to, body):
        accepted.append(body)
        if len(accepted) == 2:
            raise Crash()
        return ["SM1"]

    clock.set(at("2026-06-01 18:00", ZONE))
    with pytest.raises(Crash):
        run_due(store, get_settings(), clock, send=dies_after_twilio_took_it)
    assert statuses(checkins, enrolled)["evening"] == "sending"
    send = Recorder()
    for _ in range(3):  # the restarted worker, a few cycles later
        clock.advance(minutes=5)
        run_due(store, get_settings(), clock, send=send)
    assert not send.sent and statuses(checkins, enrolled)["evening"] == "sent"
    clock.set(at("2026-06-02 18:00", ZONE))
    run_due(store, get_settings(), clock, send=send)
    [(_, reminder)] = send.sent  # the reminder still follows
    assert reminder.startswith("Reminder:")


def test_two_workers_do_not_both_send_one_check_in(store, clock, enrolled):
    send = Recorder()
    clock.set(at("2026-06-01 18:00", ZONE))
    first = Sender(store, get_settings(), load_schedule(), clock, send)
    second = Sender(store, get_settings(), load_schedule(), clock, send)
    rows = first.checkins.rows("select s.*, e.phone, e.timezone, e.procedure, e.intro_sent_at "
                               "from checkin_schedule s join checkin_enrolments e on "
                               "e.id = s.enrolment_id where s.key = 'evening'")  # fmt: skip
    assert first.send_checkin(dict(rows[0])) == "sent"
    assert second.send_checkin(dict(rows[0])) != "sent"  # the stale row is not sent again
    assert len(send.sent) == 2


def test_200_patients_due_in_the_same_minute_each_get_exactly_one_text(
    twilio, store, clock, checkins, cycle
):
    numbers = [f"+1555551{n:04d}" for n in range(200)]
    for number in numbers:
        enrol(store, phone=number, procedure="kyphoplasty", when=PROCEDURE, zone=ZONE,
              enrolled_by="RN", clock=clock)  # fmt: skip
    clock.set(at("2026-06-01 18:00", ZONE))
    assert cycle()["sent"] == 200
    cycle()
    for number in numbers:
        assert [m.body[:3] for m in twilio.to(number)] == ["Hi,", get_settings().clinic_name[:3]]
    assert len(twilio.sent) == 400


def test_a_clock_change_neither_moves_nor_doubles_a_check_in(store, clock):
    zone = "America/New_York"  # clocks go back at 2 am on 1 November 2026
    enrol(store, phone=PATIENT, procedure="kyphoplasty", when="2026-10-30 10:30", zone=zone,
          enrolled_by="RN", clock=clock)  # fmt: skip
    clock.set(at("2026-10-30 10:30", zone))
    send = Recorder()
    sent = []
    while clock.now < at("2026-11-14 12:00", zone):
        clock.advance(minutes=15)
        before = len(send.sent)
        run_due(store, get_settings(), clock, send=send)
        sent += [(clock.now.astimezone(ZoneInfo(zone)), b) for _, b in send.sent[before:]]
    questions = [(when.strftime("%m-%d %H:%M"), body) for when, body in sent if "Reply" in body]
    first = [
        when
        for when, body in questions
        if not body.startswith(("Reminder", "Hi,")) and "should we stop?" not in body
    ]
    assert first == ["10-30 18:00", "11-01 10:30", "11-06 10:00", "11-13 10:00"]


def test_nothing_is_sent_without_twilio_settings(store, clock, enrolled, checkins):
    clock.set(at("2026-06-01 18:00", ZONE))
    assert run_due(store, get_settings(), clock) == {}
    assert statuses(checkins, enrolled)["evening"] == "scheduled"


def test_no_reminder_once_a_check_in_counts_as_missed(store, clock, enrolled, checkins):
    send = Recorder()
    clock.set(at("2026-06-01 18:00", ZONE))
    run_due(store, get_settings(), clock, send=send)
    clock.set(at("2026-06-05 12:00", ZONE))  # the worker was down for days
    run_due(store, get_settings(), clock, send=send)
    assert not [body for _, body in send.sent if body.startswith("Reminder")]
    assert statuses(checkins, enrolled)["evening"] == "missed"


def test_three_missed_in_a_row_get_one_last_text_asking_help_or_stop(store, clock, enrolled):
    send = Recorder()
    sent = walk(store, clock, send, at("2026-07-20 12:00", ZONE), step_minutes=30)
    last = [(when, body) for when, body in sent if "should we stop?" in body]
    [(when, body)] = last
    assert "Reply HELP for help or STOP to end." in body and len(body) <= 160
    # evening, day 2 and day 7 unanswered: day 7 is missed 24 hours after its reminder
    assert when.strftime("%Y-%m-%d %H:%M") == "2026-06-10 10:00"
