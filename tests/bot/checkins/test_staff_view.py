"""The check-ins on the staff pages, over real HTTP against the real staff server and SQLite
file: the list and call list, one programme with its chart, the enrol form (and its kind
refusals), stop, the CSV export; sign-in, CSRF, headers and the audit row of each."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Iterator, Tuple

import pytest

from bot import audit, staff
from bot import clock as bot_clock
from bot.checkins import overview, pages
from bot.checkins.store import CheckinStore
from bot.settings import get_settings
from bot.store import Store
from tests.bot.checkins.conftest import ZONE
from tests.support.checkins import under_way
from tests.support.loopback import free_port
from tests.support.sms import PATIENT
from tests.support.staff_client import StaffClient, add_staff

OTHER = "+15555550177"


@pytest.fixture
def site(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("STAFF_PORT", str(free_port()))
    get_settings.cache_clear()
    add_staff(store, "ana", "nurse")
    server = staff.serve(store, get_settings())
    yield f"http://127.0.0.1:{get_settings().staff_port}"
    server.shutdown()


@pytest.fixture
def nurse(site: str) -> StaffClient:
    client = StaffClient(site)
    assert client.sign_in("ana") == 303
    return client


def actions(store: Store) -> list:
    return [(row["actor"], row["action"], row["detail"]) for row in audit.rows(store)]


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/checkins"), ("GET", "/checkins/1"), ("GET", "/checkins/new"),
     ("GET", "/checkins/export.csv")],
)  # fmt: skip
def test_a_stranger_is_sent_to_sign_in_and_sees_no_patient(site, enrolled, method, path):
    status, head, body = StaffClient(site).request(method, path)
    assert status == 303 and head["Location"] == "/signin"
    assert PATIENT[-4:] not in body


def test_a_change_without_the_csrf_token_is_refused(site, nurse, store, enrolled, checkins):
    form = {"phone": OTHER, "procedure": "kyphoplasty", "date": "2026-06-01", "time": "10:30"}
    assert nurse.post("/checkins/new", {**form, "csrf": "forged"})[0] == 403
    assert nurse.post(f"/checkins/{enrolled}/stop", {"csrf": ""})[0] == 403
    assert StaffClient(site).post(f"/checkins/{enrolled}/stop", {"csrf": "x"})[0] == 403
    assert len(checkins.enrolments()) == 1 and checkins.enrolment(enrolled)["status"] == "active"


def test_the_list_masks_numbers_and_the_call_list_names_who_to_call(
    nurse, store, clock, schedule, enrolled, checkins
):
    under_way(store, clock, enrolled, PATIENT)
    status, head, body = nurse.get("/checkins")
    assert status == 200
    assert head["Cache-Control"] == "no-store"
    assert "default-src 'none'" in head["Content-Security-Policy"]
    [row] = re.findall(r"<tr class='programme-row'>.*?</tr>", body)
    assert "+1******0123" in row and PATIENT not in row
    assert "kyphoplasty" in row and "Mon 1 Jun 2026 10:30 CDT" in row
    assert "8/10" in row and "day14" in row  # last pain score, next check-in
    assert "call-now" in row  # the day 2 and day 7 alerts wait for a call
    [call] = re.findall(r"<tr class='call-row'>.*?</tr>", body)
    assert f"href='tel:{PATIENT}'" in call and "day7" in call and "day2" not in call
    assert "Call list: no answer (1)" in body
    assert "Reply rate" in body and "Time from alert to acknowledgement, median" in body
    assert "href='/checkins/new'" in body and "href='/checkins/export.csv'" in body
    assert actions(store)[-1] == ("ana", "viewed check-ins", "1 programmes, 1 to call")


def test_resolving_the_alert_takes_the_patient_off_the_call_list(
    nurse, store, clock, schedule, enrolled, checkins
):
    under_way(store, clock, enrolled, PATIENT)
    [missed] = [r for r in checkins.checkins(enrolled) if r["status"] == "missed"]
    nurse.get(f"/escalations/{missed['escalation_id']}")
    form = {"csrf": nurse.csrf()}
    assert nurse.post(f"/escalations/{missed['escalation_id']}/ack", form)[0] == 303
    resolve = {**form, "outcome": "reached_advised", "note": "called"}
    assert nurse.post(f"/escalations/{missed['escalation_id']}/resolve", resolve)[0] == 303
    assert overview.call_list(store) == []
    assert "Call list: no answer (0)" in nurse.get("/checkins")[2]


def test_one_programme_shows_each_check_in_its_replies_the_chart_and_alerts(
    nurse, store, clock, schedule, enrolled
):
    under_way(store, clock, enrolled, PATIENT)
    status, _, body = nurse.get(f"/checkins/{enrolled}")
    assert status == 200
    assert f"href='tel:{PATIENT}'" in body and "by RN Test" in body
    statuses = re.findall(r"<tr class='checkin-row' data-status='(\w+)'", body)
    assert statuses == ["answered", "answered", "missed", "scheduled", "scheduled"]
    assert "pain 4/10" in body and "pain 8/10" in body and "needs a call" in body
    chart = re.search(r"<svg .*?</svg>", body, re.S)
    assert chart and "role='img'" in chart.group() and "<title id='pain-title'>" in chart.group()
    assert "evening, Mon 1 Jun: 4 out of 10; day2, Wed 3 Jun: 8 out of 10" in chart.group()
    assert chart.group().count("class='score'") == 2 and "<script" not in body
    assert "<caption>The pain scores as a table</caption>" in body
    assert "check-ins" in re.search(r"<h2 id='alerts'>.*?</table>", body, re.S).group()
    assert "<button id='stop'>" in body
    assert actions(store)[-1] == ("ana", "viewed check-in programme", f"programme #{enrolled}")
    assert nurse.get("/checkins/999")[0] == 404


@pytest.fixture
def clinic_in_new_york(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINIC_TIMEZONE", "America/New_York")
    get_settings.cache_clear()


def test_enrolling_from_the_form_records_who_and_defaults_the_time_zone(
    clinic_in_new_york, nurse, store, checkins
):
    status, _, body = nurse.get("/checkins/new")
    assert status == 200
    assert "name='timezone' list='zones' required value='America/New_York'" in body
    assert "5 short texts over 6 weeks (evening, day2, day7, day14, week6)" in body
    day = (bot_clock.now() + timedelta(days=1)).strftime("%Y-%m-%d")
    form = {"csrf": nurse.csrf(), "phone": "(555) 555-0177", "procedure": "Vertebroplasty",
            "date": day, "time": "2:30 pm", "timezone": ""}  # fmt: skip
    status, head, _ = nurse.post("/checkins/new", form)
    [enrolment] = checkins.enrolments()
    assert status == 303 and head["Location"] == f"/checkins/{enrolment['id']}"
    assert (enrolment["phone"], enrolment["procedure"], enrolment["timezone"]) == (
        OTHER, "vertebroplasty", "America/New_York",
    )  # fmt: skip
    assert enrolment["enrolled_by"] == "ana"
    shown = overview.local(enrolment["procedure_at"], "America/New_York")
    assert re.search(r"14:30 E[SD]T$", shown)
    assert ("ana", "enrolled for check-ins", f"programme #{enrolment['id']}") in actions(store)
    assert OTHER not in " ".join(str(a) for a in actions(store))


def test_bad_input_is_refused_kindly_with_the_values_kept(nurse, store, checkins):
    nurse.get("/checkins/new")
    form = {"csrf": nurse.csrf(), "phone": "<b>12</b>", "procedure": "fusion",
            "date": "next tuesday", "time": "25:00", "timezone": "Mars/Olympus"}  # fmt: skip
    status, _, body = nurse.post("/checkins/new", form)
    assert status == 400 and checkins.enrolments() == []
    assert "The patient was not enrolled" in body and "role='alert'" in body
    for said in ("does not look like a mobile number", "Choose the procedure",
                 "year-month-day", "like 10:30", "Unknown time zone"):  # fmt: skip
        assert said in body
    assert "value='&lt;b&gt;12&lt;/b&gt;'" in body and "<b>12" not in body
    assert "aria-invalid='true'" in body and "aria-describedby='phone-hint phone-error'" in body
    assert actions(store)[-1] == (
        "ana", "enrolment refused", "to change: phone, procedure, date, time, timezone",
    )  # fmt: skip
    form = {**form, "phone": OTHER, "procedure": "kyphoplasty", "time": "10:30",
            "timezone": ZONE, "date": "2020-01-06"}  # fmt: skip
    status, _, body = nurse.post("/checkins/new", form)
    assert status == 400 and "too long ago" in body


def test_a_number_with_an_active_programme_is_pointed_to_it(nurse, checkins, enrolled):
    nurse.get("/checkins/new")
    day = (bot_clock.now() + timedelta(days=1)).strftime("%Y-%m-%d")
    form = {"csrf": nurse.csrf(), "phone": PATIENT, "procedure": "kyphoplasty", "date": day,
            "time": "10:30", "timezone": ZONE}  # fmt: skip
    status, _, body = nurse.post("/checkins/new", form)
    assert status == 400 and "already has an active programme" in body
    assert f"href='/checkins/{enrolled}'" in body and len(checkins.enrolments()) == 1


def test_stop_ends_the_programme_once(nurse, store, checkins, enrolled):
    nurse.get(f"/checkins/{enrolled}")
    form = {"csrf": nurse.csrf(), "reason": "moved  away"}
    status, head, _ = nurse.post(f"/checkins/{enrolled}/stop", form)
    assert status == 303 and head["Location"] == f"/checkins/{enrolled}"
    enrolment = checkins.enrolment(enrolled)
    assert (enrolment["status"], enrolment["stopped_by"], enrolment["stop_reason"]) == (
        "stopped", "ana", "moved away",
    )  # fmt: skip
    assert {r["status"] for r in checkins.checkins(enrolled)} == {"cancelled"}
    assert ("ana", "stopped check-ins", f"programme #{enrolled}") in actions(store)
    body = nurse.get(f"/checkins/{enrolled}")[2]
    assert "<button id='stop'>" not in body and "This programme is stopped by ana" in body
    assert nurse.post(f"/checkins/{enrolled}/stop", form)[0] == 409
    assert nurse.post("/checkins/999/stop", form)[0] == 404


def test_the_csv_export_is_an_audited_download(nurse, store, clock, schedule, enrolled):
    under_way(store, clock, enrolled, PATIENT)
    status, head, body = nurse.get("/checkins/export.csv")
    assert status == 200 and head["Content-Type"].startswith("text/csv")
    assert head["Content-Disposition"].startswith("attachment") and head["Cache-Control"]
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 5 and rows[1]["answer_value"] == "8"
    assert actions(store)[-1] == ("ana", "exported check-ins", "5 rows")


def test_the_queue_links_to_the_check_ins(nurse):
    assert "href='/checkins'" in nurse.get("/")[2]


# -- the pure parts ---------------------------------------------------------------------


def point(key: str, score, status: str = "answered") -> overview.PainPoint:
    return overview.PainPoint(key, "Mon 1 Jun 2026 18:00 CDT", "Mon 1 Jun", score, status)


def test_the_chart_marks_scores_at_the_line_and_says_what_is_missing():
    svg = pages.pain_chart([point("evening", 3), point("day2", 7), point("day14", None, "sent")],
                           alert_line=7)  # fmt: skip
    assert svg.count("<circle") == 2 and "fill='#a00'/>" in svg  # 7 is at the line
    assert "day14, Mon 1 Jun: no score" in svg and "sent, no answer yet" in svg
    assert "<polyline" in svg and "call at 7+" in svg
    assert "<p>No check-in" in pages.pain_chart([], 7)
    assert "<polyline" not in pages.pain_chart([point("evening", 2)], 7)


@pytest.mark.parametrize(
    "typed, read",
    [("10:30", "10:30"), ("9:05", "09:05"), ("2:30 pm", "14:30"), ("12 am", "00:00"),
     ("12:15 p.m.", "12:15"), ("14", "14:00"), ("24:00", None), ("13 pm", None), ("x", None)],
)  # fmt: skip
def test_times_are_read_as_staff_type_them(typed: str, read: Tuple[str, None]):
    assert overview._time(typed) == read


def test_programmes_are_listed_active_first(store, checkins, clock, schedule, enrolled):
    second = CheckinStore(store).enrol(
        phone=OTHER, procedure="vertebroplasty", procedure_at=clock(), zone=ZONE,
        enrolled_by="RN Test", schedule=schedule, now=clock(),
    )  # fmt: skip
    checkins.stop(enrolled, "RN Test", "test", clock())
    assert [p["id"] for p in overview.programmes(store)] == [second, enrolled]


def test_paths_that_are_no_check_in_route_are_not_found(nurse):
    for path in ("/checkins/abc", "/checkins/1/stop", "/checkins/export"):
        assert nurse.get(path)[0] == 404
    nurse.get("/checkins")
    token = nurse.csrf()
    for path in ("/checkins/1", "/checkins/export.csv"):
        assert nurse.post(path, {"csrf": token})[0] == 404
    # the list takes no form: Sanic says so (and, as for every page, a trailing / is the same)
    assert nurse.post("/checkins", {"csrf": token})[0] == 405
    assert nurse.get("/checkins/")[0] == 200
