"""The staff page server over real HTTP against the store by settings (a real SQLite file, or
PostgreSQL with TEST_DATABASE=postgresql): sign-in, sessions, CSRF, the queue, an alert page,
the machine API, and the audit row each leaves."""

import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import timedelta

import pytest

from bot import audit, clock, staff, staff_app
from bot.settings import get_settings
from bot.store import open_store
from tests.support.loopback import free_port
from tests.support.staff_client import StaffClient, add_staff

TOKEN = "staff-token-123"


def report(store, sender="rest:p", tier="emergency", message="my chest hurts", key="k"):
    return store.record(
        sender=sender,
        channel="rest",
        tier=tier,
        symptoms=["chest_pain"],
        message=message,
        event_key=key,
        source="action",
        notifiers=(),
    )


@pytest.fixture
def page(tmp_path, monkeypatch):
    monkeypatch.setenv("STAFF_TOKEN", TOKEN)
    monkeypatch.setenv("STAFF_PORT", str(free_port()))
    get_settings.cache_clear()
    store = open_store()  # the database the staff app opens by settings
    report(store, message="<script>alert(1)</script> chest hurts")
    add_staff(store)
    server = staff.serve(store, get_settings())
    yield f"http://127.0.0.1:{get_settings().staff_port}", store
    server.shutdown()
    store.close()


def actions(store):
    return [row["action"] for row in audit.rows(store)]


@pytest.mark.parametrize("path", ["/", "/escalations/1", "/escalations/99"])
def test_every_page_sends_a_stranger_to_sign_in_and_shows_no_patient_data(page, path):
    base, _ = page
    for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}, {"Cookie": "staff_session=forged"}):
        status, head, body = StaffClient(base).get(path, headers=headers)
        assert status == 303 and head["Location"] == "/signin"
        assert "chest" not in body


def test_a_change_without_a_session_is_refused(page):
    base, store = page
    status, _, _ = StaffClient(base).post("/escalations/1/ack", {"csrf": "x"})
    assert status == 403 and store.get(1)["status"] == "open"


def test_sign_in_sets_a_strict_http_only_cookie_and_opens_the_queue(page):
    base, store = page
    client = StaffClient(base)
    assert client.sign_in("ana") == 303
    [cookie] = [c for c in client.set_cookies if c.startswith("staff_session=")]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    status, head, body = client.get("/")
    assert status == 200 and "Alerts waiting (1)" in body and "chest_pain" in body
    assert (
        head["Cache-Control"] == "no-store"
        and "default-src 'none'" in head["Content-Security-Policy"]
    )
    assert "http-equiv='refresh'" in body
    assert actions(store)[-2:] == ["signed in", "viewed queue"]
    assert audit.rows(store)[-1]["actor"] == "ana" and audit.rows(store)[-1]["remote"]


def test_the_cookie_is_secure_behind_https(page):
    base, _ = page
    client = StaffClient(base)
    client.get("/signin", headers={"X-Forwarded-Proto": "https"})
    assert all("; Secure" in c for c in client.set_cookies)


def test_sign_in_needs_its_own_csrf_cookie(page):
    base, _ = page
    client = StaffClient(base)
    client.get("/signin")
    client.cookies.clear()
    status, _, _ = client.post("/signin", {"csrf": client.csrf(), "name": "ana", "password": "x"})
    assert status == 403


def test_a_wrong_password_or_name_says_the_same_and_is_audited(page):
    base, store = page
    for name, password in (("ana", "wrong password"), ("nobody", "correct horse battery")):
        client = StaffClient(base)
        assert client.sign_in(name, password) == 401
        assert "do not match" in client.body and "staff_session" not in client.cookies
    assert actions(store)[-2:] == ["wrong password", "sign-in refused"]


def test_repeated_wrong_passwords_lock_the_account_until_the_time_passes(page, monkeypatch):
    base, store = page
    for _ in range(get_settings().staff_lockout_attempts):
        StaffClient(base).sign_in("ana", "wrong password")
    client = StaffClient(base)
    assert client.sign_in("ana") == 401 and "locked" in client.body
    assert "account locked" in actions(store)
    later = clock.now() + timedelta(minutes=get_settings().staff_lockout_minutes + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert StaffClient(base).sign_in("ana") == 303


def test_an_idle_session_expires(page, monkeypatch):
    base, _ = page
    client = StaffClient(base)
    client.sign_in("ana")
    assert client.get("/")[0] == 200
    later = clock.now() + timedelta(minutes=get_settings().staff_idle_minutes + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert client.get("/")[0] == 303


def test_sign_out_ends_the_session(page):
    base, store = page
    client = StaffClient(base)
    client.sign_in("ana")
    client.get("/")
    old = dict(client.cookies)
    assert client.post("/signout", {"csrf": client.csrf()})[0] == 303
    client.cookies = old  # the browser kept the cookie: it is dead on the server
    assert client.get("/")[0] == 303
    assert "signed out" in actions(store)


def test_the_alert_page_escapes_patient_text_and_is_audited(page):
    base, store = page
    client = StaffClient(base)
    client.sign_in("ana")
    status, _, body = client.get("/escalations/1")
    assert status == 200 and "&lt;script&gt;" in body and "<script>" not in body
    row = audit.rows(store)[-1]
    assert (row["action"], row["escalation_id"], row["actor"]) == ("viewed alert", 1, "ana")
    assert client.get("/escalations/99")[0] == 404


def test_acknowledge_resolve_and_reopen_need_the_session_token_and_are_audited(page):
    base, store = page
    client = StaffClient(base)
    client.sign_in("ana")
    client.get("/escalations/1")
    good = client.csrf()
    assert client.post("/escalations/1/ack", {"csrf": "bad"})[0] == 403
    assert store.get(1)["status"] == "open"
    assert client.post("/escalations/1/ack", {"csrf": good})[0] == 303
    assert client.post("/escalations/1/ack", {"csrf": good})[0] == 409
    assert client.post("/escalations/1/resolve", {"csrf": good, "outcome": "x"})[0] == 400
    form = {"csrf": good, "outcome": "sent_to_er", "note": "called, sent to ER"}
    assert client.post("/escalations/1/resolve", form)[0] == 303
    row = store.get(1)
    assert (row["status"], row["outcome"], row["resolved_by"]) == ("resolved", "sent_to_er", "ana")
    assert row["acknowledged_by"] == "ana" and row["resolution_note"] == "called, sent to ER"
    assert client.post("/escalations/1/reopen", {"csrf": good})[0] == 303
    assert store.get(1)["status"] == "acknowledged"
    changes = [r["action"] for r in audit.rows(store, 1) if not r["action"].startswith("viewed")]
    assert changes == ["acknowledged", "resolved", "reopened"]


def test_the_queue_puts_emergencies_first_then_the_longest_waiting(page):
    base, store = page
    report(store, sender="rest:q", tier="urgent", key="k2")
    report(store, sender="rest:r", tier="emergency", key="k3")
    client = StaffClient(base)
    client.sign_in("ana")
    _, _, body = client.get("/")
    assert re.findall(r"href='/escalations/(\d+)'", body) == ["1", "3", "2"]


def fetch(url, auth=None):
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", auth)
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.status, reply.read().decode()


def test_the_token_opens_the_api_only(page):
    base, store = page
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetch(base + "/api/escalations", "Bearer wrong")
    assert refused.value.code == 401
    status, body = fetch(base + "/api/escalations", f"Bearer {TOKEN}")
    [row] = json.loads(body)
    assert status == 200 and row["escalation_id"] == 1 and "message" not in row
    assert audit.rows(store)[-1]["actor"] == "api"


def test_health_needs_nothing_and_says_nothing(page):
    base, _ = page
    assert fetch(base + "/health") == (200, "ok")
    assert not staff.authorised("Bearer anything", None)
    assert not staff.authorised("", TOKEN)


@pytest.mark.parametrize("length", ["-1", "abc", "99999999999999999999999"])
def test_a_bad_content_length_gets_400_at_once_and_does_not_hold_a_thread(page, length):
    url, _ = page
    host, port = url.rsplit("/", 1)[-1].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(
            f"POST /escalations/1/ack HTTP/1.1\r\nHost: x\r\n"
            f"Content-Length: {length}\r\n\r\ncsrf=x".encode()
        )
        conn.settimeout(5)
        reply = conn.recv(200).decode()
    assert reply.startswith("HTTP/1.0 400") or reply.startswith("HTTP/1.1 400"), reply


def test_the_queue_reloading_itself_does_not_keep_a_session_alive(page, monkeypatch):
    base, _ = page
    client = StaffClient(base)
    client.sign_in("ana")
    _, _, body = client.get("/")
    assert "url=/?auto=1" in body
    start = clock.now()
    idle = get_settings().staff_idle_minutes
    for minutes in (idle * 0.5, idle * 0.9):
        monkeypatch.setattr(clock, "now", lambda m=minutes: start + timedelta(minutes=m))
        assert client.get("/?auto=1")[0] == 200
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(minutes=idle + 1))
    assert client.get("/?auto=1")[0] == 303


def test_a_typed_in_name_cannot_write_to_the_terminal(page):
    base, store = page
    StaffClient(base).sign_in("\x1b[2Jevil", "whatever password")
    assert "\x1b" not in audit.format_row(audit.rows(store)[-1])


def test_only_an_admin_sees_the_audit_log_page(page):
    base, store = page
    add_staff(store, "lee", "admin")
    nurse = StaffClient(base)
    nurse.sign_in("ana")
    assert "/audit" not in nurse.get("/")[2]
    assert nurse.get("/audit")[0] == 403
    admin = StaffClient(base)
    admin.sign_in("lee")
    assert "href='/audit'" in admin.get("/")[2]
    status, _, body = admin.get("/audit")
    assert status == 200 and "viewed queue" in body and "ana" in body
    assert actions(store)[-1] == "viewed audit log"


def test_the_queue_shows_the_figures(page):
    base, _ = page
    client = StaffClient(base)
    client.sign_in("ana")
    _, _, body = client.get("/")
    assert "Time to acknowledge, median" in body and "Went to the second step" in body


def test_the_audit_log_records_the_client_behind_a_trusted_proxy_only(page):
    base, store = page
    forwarded = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
    client = StaffClient(base)
    client.get("/signin")
    form = {"csrf": client.csrf(), "name": "ana", "password": "x"}
    client.post("/signin", form, headers=forwarded)
    assert audit.rows(store)[-1]["remote"] == "127.0.0.1"  # not trusted: the header is ignored
    settings = replace(get_settings(), staff_port=free_port(), staff_trusted_proxies=("127.0.0.1",))
    server = staff.serve(store, settings)
    try:
        proxied = StaffClient(f"http://127.0.0.1:{settings.staff_port}")
        proxied.get("/signin")
        form = {"csrf": proxied.csrf(), "name": "ana", "password": "x"}
        proxied.post("/signin", form, headers=forwarded)
        assert audit.rows(store)[-1]["remote"] == "198.51.100.7"
    finally:
        server.shutdown()


def test_only_a_clean_number_becomes_a_link_to_dial():
    from bot.staff_pages import _callback

    assert _callback("+15555550123") == "<a class='call' href='tel:+15555550123'>+15555550123</a>"
    assert _callback("<b>555</b>") == "&lt;b&gt;555&lt;/b&gt;"
    assert _callback(None, "not given") == "not given"


@pytest.mark.parametrize(
    "route", [r for r in staff_app.ROUTES if r.access != staff_app.OPEN], ids=lambda r: r.path
)
def test_every_route_but_the_open_ones_refuses_without_a_session(page, route):
    base, store = page
    path = route.path.replace("<escalation_id:int>", "1")
    client = StaffClient(base)
    form = {"csrf": "x", "outcome": "no_answer"} if route.method == "POST" else None
    status, head, body = client.request(route.method, path, form=form)
    expected = {staff_app.TOKEN: 401, staff_app.FORM: 403}.get(route.access, 303)
    assert status == expected and "chest" not in body
    assert store.get(1)["status"] == "open"


def test_a_body_bigger_than_a_form_is_refused_unread(page):
    base, store = page
    client = StaffClient(base)
    client.sign_in("ana")
    client.get("/")
    form = {"csrf": client.csrf(), "outcome": "no_answer", "note": "x" * staff_app.MAX_FORM_BYTES}
    assert client.post("/escalations/1/ack", form)[0] == 413
    assert store.get(1)["status"] == "open"


@pytest.mark.parametrize(
    "start, status",
    [
        (b"POST /signin HTTP/1.1\r\nHost: x\r\nContent-Le", "408"),  # headers stop
        (b"POST /signin HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\ncs", "503"),  # body
    ],
)
def test_a_client_that_stops_sending_is_cut_off_and_holds_up_nobody(monkeypatch, start, status):
    monkeypatch.setattr(staff_app, "REQUEST_TIMEOUT_SECONDS", 1)
    monkeypatch.setattr(staff_app, "RESPONSE_TIMEOUT_SECONDS", 1)
    settings = replace(get_settings(), staff_port=free_port())
    store = open_store()
    server = staff.serve(store, settings)
    base = f"http://127.0.0.1:{settings.staff_port}"
    try:
        with socket.create_connection(("127.0.0.1", settings.staff_port), timeout=5) as slow:
            slow.sendall(start)
            assert fetch(base + "/health") == (200, "ok")  # served meanwhile
            started = time.monotonic()
            reply = slow.recv(200).decode()
            assert time.monotonic() - started < 4
        assert reply.startswith(f"HTTP/1.1 {status}"), reply
    finally:
        server.shutdown()
        store.close()


def test_a_change_waiting_for_the_database_does_not_stall_other_pages(page):
    """Views run in worker threads: one stuck behind another writer's lock (here the test's
    own write transaction: BEGIN IMMEDIATE on SQLite, the writers' advisory lock on
    PostgreSQL) leaves the event loop free for the next request."""
    base, store = page
    client = StaffClient(base)
    client.sign_in("ana")
    client.get("/")
    token = client.csrf()
    result: list = []
    waiting = threading.Thread(
        target=lambda: result.append(client.post("/escalations/1/ack", {"csrf": token})[0])
    )
    blocker = open_store()
    try:
        with blocker.transaction():
            waiting.start()
            time.sleep(0.5)
            assert not result  # the acknowledgement is waiting for the lock
            started = time.monotonic()
            assert fetch(base + "/health") == (200, "ok")
            assert StaffClient(base).get("/signin")[0] == 200
            assert time.monotonic() - started < 2
    finally:
        waiting.join(30)
        blocker.close()
    assert result == [303] and store.get(1)["status"] == "acknowledged"


def test_a_port_in_use_fails_at_start_not_later(page):
    _, store = page
    with pytest.raises(OSError):
        staff.serve(store, get_settings())  # the fixture's server holds STAFF_PORT
