"""One contract for the assistant's own tables, run against both backends: a real SQLite file
(the embedded default) and a real PostgreSQL server (DATABASE_URL; tests/support/postgres.py
starts a throwaway one). The store is opened by settings (`open_store`), as the servers do.

Covered: escalations (record, get, list, acknowledge, resolve), the outbox (due, claim with a
lease, mark_attempt), meta, SMS state, web sessions, staff accounts and the append-only audit
log, check-in enrolment, the reconciler and retention over Rasa's own `events` table, and
races: two workers delivering the outbox (threads, and two processes) send each notification
exactly once; the same turn recorded at once from two places is stored once; turns of one
conversation recorded at once open one escalation (on PostgreSQL, the per-conversation lock).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, List

import pytest

from bot import notify, staff_accounts
from bot.channels.sms_format import Choice
from bot.channels.sms_store import SmsStore
from bot.channels.web_sessions import WebSessions, new_browser_key
from bot.settings import get_settings
from bot.store import SqliteStore, Store, open_store, utcnow

ROOT = Path(__file__).resolve().parents[2]
PHONE = "+15555550123"
DAY = 86400


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    if request.param == "postgresql":
        monkeypatch.setenv("DATABASE_URL", request.getfixturevalue("postgres_url"))
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield request.param
    if request.param == "postgresql":
        from bot import store as store_module
        from bot.storage.sql import dispose_engines

        store_module._stores.clear()
        dispose_engines()  # every test's database has its own pool: give the connections back
    get_settings.cache_clear()


@pytest.fixture
def store(backend: str) -> Any:
    s = open_store()
    assert s.dialect == backend
    yield s
    s.close()


def record(
    store: Store,
    key: str = "rest:a:1.0",
    tier: str = "urgent",
    sender: str = "rest:a",
    symptoms: Any = ("numbness",),
    notifiers: Any = ("webhook", "email"),
) -> Any:
    return store.record(
        sender=sender,
        channel="rest",
        tier=tier,
        symptoms=list(symptoms),
        message="my legs are numb",
        event_key=key,
        source="action",
        notifiers=notifiers,
    )


# -- escalations ----------------------------------------------------------------------


def test_the_backend_is_chosen_by_settings(store, backend):
    assert isinstance(store, Store)
    assert isinstance(store, SqliteStore) == (backend == "sqlite")


def test_a_report_creates_an_open_escalation_and_its_notifications(store):
    done = record(store)
    assert done.created and not done.duplicate and done.tier == "urgent"
    row = store.get(done.escalation_id)
    assert row["status"] == "open" and row["sender"] == "rest:a" and row["channel"] == "rest"
    assert row["symptoms"] == ["numbness"] and row["created_at"].endswith("+00:00")
    assert [r["event_key"] for r in row["reports"]] == ["rest:a:1.0"]
    assert row["reports"][0]["symptoms"] == ["numbness"]
    assert [n["notifier"] for n in row["notifications"]] == ["webhook", "email"]
    assert {n["reason"] for n in row["notifications"]} == {"new"}
    assert store.get(done.escalation_id + 1000) is None


def test_the_same_turn_twice_is_stored_once(store):
    first = record(store)
    second = record(store)
    assert second.duplicate and second.escalation_id == first.escalation_id
    assert len(store.get(first.escalation_id)["reports"]) == 1
    assert store.pending_count() == 2


def test_repeat_reports_attach_and_a_worse_one_notifies_again(store):
    first = record(store, key="k1")
    again = record(store, key="k2", symptoms=("tingling",))
    assert again.escalation_id == first.escalation_id and not again.created
    assert store.get(first.escalation_id)["symptoms"] == ["numbness", "tingling"]
    assert store.pending_count() == 2
    worse = record(store, key="k3", tier="emergency", symptoms=("chest_pain",))
    assert worse.tier == "emergency" and store.get(first.escalation_id)["tier"] == "emergency"
    assert store.pending_count() == 4
    milder = record(store, key="k4", tier="urgent")
    assert milder.tier == "emergency" and store.pending_count() == 4


def test_list_acknowledge_resolve(store):
    a = record(store, key="a", sender="rest:a").escalation_id
    b = record(store, key="b", sender="rest:b").escalation_id
    assert [r["id"] for r in store.list()] == [a, b]
    assert store.acknowledge(a) and not store.acknowledge(a)
    assert [r["id"] for r in store.list("acknowledged")] == [a]
    assert [r["id"] for r in store.list("open")] == [b]
    assert store.resolve(a, "called back") and not store.resolve(a, "again")
    assert store.resolve(b, "x" * 3000)
    row = store.get(a)
    assert row["status"] == "resolved" and row["resolution_note"] == "called back"
    assert row["acknowledged_at"] and row["resolved_at"]
    assert len(store.get(b)["resolution_note"]) == 2000
    assert store.list("open") == []
    # after resolution the same conversation opens a new escalation
    assert record(store, key="c", sender="rest:a").created


def test_callback_number(store):
    done = record(store)
    store.set_callback_number(done.escalation_id, "+15555550100")
    assert store.get(done.escalation_id)["callback_number"] == "+15555550100"


# -- the outbox -----------------------------------------------------------------------


def test_due_notifications_and_attempts(store):
    now = utcnow()
    record(store)
    due = store.due_notifications(now=now)
    assert [d["notifier"] for d in due] == ["webhook", "email"]
    store.mark_attempt(due[0]["id"], ok=False, error="refused", retry_in=60, now=now)
    assert [d["id"] for d in store.due_notifications(now=now)] == [due[1]["id"]]
    later = store.due_notifications(now=now + timedelta(seconds=61))
    assert [d["id"] for d in later] == [due[0]["id"], due[1]["id"]]
    assert later[0]["attempts"] == 1 and later[0]["last_error"] == "refused"
    store.mark_attempt(due[0]["id"], ok=True, now=now + timedelta(seconds=61))
    store.mark_attempt(due[1]["id"], ok=True, now=now)
    assert store.pending_count() == 0
    assert store.due_notifications(now=now + timedelta(days=1)) == []
    sent = store.get(due[0]["escalation_id"])["notifications"][0]
    assert sent["attempts"] == 2 and sent["delivered_at"] and sent["last_error"] is None
    tries = store.db.execute(
        "select ok, error from notification_attempts where outbox_id = ? order by id",
        [due[0]["id"]],
    ).fetchall()
    assert [tuple(t) for t in tries] == [(0, "refused"), (1, "")]


def test_a_claimed_notification_waits_for_its_lease(store):
    now = utcnow()
    record(store)
    [first] = store.claim_notifications(now=now, limit=1, lease_seconds=60)
    [second] = store.claim_notifications(now=now, limit=5, lease_seconds=60)
    assert first["id"] != second["id"]
    assert store.claim_notifications(now=now) == [] and store.due_notifications(now=now) == []
    # the worker holding `first` died: once the lease is over another worker takes it
    assert store.claim_notifications(now=now + timedelta(seconds=30)) == []
    [again] = store.claim_notifications(now=now + timedelta(seconds=61), limit=1)
    assert again["id"] == first["id"]
    store.mark_attempt(again["id"], ok=False, error="down", retry_in=0, now=now)
    # a marked attempt ends the lease: due again at once (retry_in 0)
    [retry] = store.claim_notifications(now=now, limit=5)
    assert retry["id"] == first["id"]  # `second` is still leased
    late = store.claim_notifications(now=now + timedelta(seconds=200), exclude=[first["id"]])
    assert [r["id"] for r in late] == [second["id"]]


def test_meta(store):
    assert store.get_meta("cursor") == "" and store.get_meta("cursor", "0") == "0"
    store.set_meta("cursor", "5")
    store.set_meta("cursor", "7")
    assert store.get_meta("cursor") == "7"


def test_a_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute("insert into meta (key, value) values (?, ?)", ["k", "v"])
        raise RuntimeError("stop")
    assert store.get_meta("k") == ""
    with pytest.raises(store.integrity_errors), store.transaction() as conn:
        conn.execute("insert into meta (key, value) values (?, ?)", ["k", "v"])
        conn.execute("insert into meta (key, value) values (?, ?)", ["k", "w"])
    assert store.get_meta("k") == ""


def test_has_table_and_exclusive(store):
    assert store.has_table("outbox") and not store.has_table("no_such_table")
    with store.exclusive("job") as mine:
        assert mine
        other = open_store()
        with other.exclusive("job") as theirs, other.exclusive("another job") as free:
            assert not theirs and free
        other.close()
    with store.exclusive("job") as mine:
        assert mine  # released


# -- two workers at once -------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.sent: List[int] = []
        self.lock = threading.Lock()

    def send(self, outbox_id: int, escalation: Any) -> None:
        time.sleep(0.002)  # a delivery takes a moment: the other worker is claiming meanwhile
        with self.lock:
            self.sent.append(outbox_id)


def test_two_workers_deliver_each_notification_exactly_once(store, monkeypatch):
    for n in range(40):
        record(store, key=f"rest:{n}:1.0", sender=f"rest:{n}", notifiers=("webhook",))
    expected = sorted(r["id"] for r in store.due_notifications(limit=1000))
    assert len(expected) == 40
    recorder = Recorder()
    monkeypatch.setattr(notify, "build", lambda name, settings: recorder)
    settings = get_settings()
    errors: List[BaseException] = []
    start = threading.Barrier(4)

    def worker() -> None:
        own = open_store()  # a store of its own, as another process would have
        try:
            start.wait()
            deadline = time.monotonic() + 60
            while own.pending_count() and time.monotonic() < deadline:
                notify.deliver_due(own, settings, limit=5)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            own.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not errors
    assert sorted(recorder.sent) == expected  # every one, none twice
    assert store.pending_count() == 0
    attempts = store.db.execute("select count(*) from notification_attempts").fetchone()[0]
    assert attempts == 40


CLAIMER = """
import sys, time
from bot.store import open_store
store = open_store()
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
got = []
while True:
    rows = store.claim_notifications(limit=1)
    if not rows:
        break
    time.sleep(0.003)
    store.mark_attempt(rows[0]["id"], ok=True)
    got.append(rows[0]["id"])
print(",".join(map(str, got)))
"""


def test_two_worker_processes_claim_each_notification_once(store):
    for n in range(150):
        record(store, key=f"rest:{n}:1.0", sender=f"rest:{n}", notifiers=("webhook",))
    expected = sorted(r["id"] for r in store.due_notifications(limit=1000))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start_at = str(time.time() + 5)  # both processes have imported the project by then
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, start_at],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert all(w.returncode == 0 for w in workers), [err[-2000:] for _, err in outputs]
    claimed = [[int(i) for i in out.strip().split(",") if i] for out, _ in outputs]
    assert sorted(claimed[0] + claimed[1]) == expected
    assert claimed[0] and claimed[1], "both workers should have sent some"
    assert store.pending_count() == 0


def test_the_same_turn_recorded_at_once_from_two_places_is_stored_once(store):
    results: List[Any] = []
    start = threading.Barrier(6)

    def recorder(n: int) -> None:
        own = open_store()
        try:
            start.wait()
            # three threads record the same turn, three others other turns of that conversation
            results.append(record(own, key="rest:a:1.0" if n < 3 else f"rest:a:{n}.0"))
        finally:
            own.close()

    threads = [threading.Thread(target=recorder, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 6
    assert len({r.escalation_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert sum(r.duplicate for r in results) == 2
    [row] = store.list()
    assert len(store.get(row["id"])["reports"]) == 4
    assert store.pending_count() == 2  # the new escalation's, once


def test_turns_of_one_conversation_recorded_at_once_open_one_escalation(store):
    """Each round, eight connections record eight different turns of one new conversation at
    the same moment: one escalation, eight reports. On PostgreSQL only the per-conversation
    lock makes that so (without it, several see no open escalation and each opens one)."""
    rounds, width = 15, 8
    errors: List[BaseException] = []
    for r in range(rounds):
        start = threading.Barrier(width)
        sender = f"rest:race{r}"

        def recorder(n: int, sender: str = sender, start: Any = start) -> None:
            own = open_store()
            try:
                start.wait()
                record(own, key=f"{sender}:{n}.0", sender=sender)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                own.close()

        threads = [threading.Thread(target=recorder, args=(n,)) for n in range(width)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert not errors
    opened = [row for row in store.list() if row["sender"].startswith("rest:race")]
    assert len(opened) == rounds
    assert all(len(store.get(row["id"])["reports"]) == width for row in opened)


# -- SMS state ------------------------------------------------------------------------


def test_sms_opt_out_claims_and_choices(store):
    sms = SmsStore(store)
    assert not sms.is_opted_out(PHONE) and sms.opted_out_by(PHONE) is None
    assert sms.opt_out(PHONE, "stop", "SM1") and not sms.opt_out(PHONE, "quit", "SM2")
    assert sms.is_opted_out(PHONE) and sms.opted_out_by(PHONE) == "SM1"
    assert sms.opt_in(PHONE) and not sms.opt_in(PHONE) and not sms.is_opted_out(PHONE)
    assert sms.claim("SM1", PHONE) and not sms.claim("SM1", PHONE)
    assert sms.reply_for("SM1") is None
    sms.answered("SM1", ["one", "two"])
    assert sms.reply_for("SM1") == ["one", "two"]
    now = utcnow()
    sms.offer(PHONE, [Choice(1, "Yes", "/affirm"), Choice(2, "No", "/deny")], now=now)
    assert sms.pending_choices(PHONE) == {1: "/affirm", 2: "/deny"}
    assert sms.take_choice(PHONE, 2, now=now) == Choice(2, "No", "/deny")
    assert sms.take_choice(PHONE, 3, now=now) is None
    assert sms.take_choice(PHONE, 1, now=now + timedelta(hours=2)) is None
    sms.offer(PHONE, [Choice(1, "Call me", "/callback")], now=now)
    assert sms.pending_choices(PHONE) == {1: "/callback"}
    sms.offer(PHONE, [], now=now)
    assert sms.pending_choices(PHONE) == {}


def test_an_sms_delivered_twice_at_once_is_claimed_once(store):
    wins: List[bool] = []
    start = threading.Barrier(4)

    def claim() -> None:
        own = open_store()
        try:
            start.wait()
            wins.append(SmsStore(own).claim("SM9", PHONE))
        finally:
            own.close()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(wins) == [False, False, False, True]


# -- web sessions, staff accounts, audit, check-ins -----------------------------------


def test_web_sessions(store):
    sessions = WebSessions(store=store)
    key, other = new_browser_key(), new_browser_key()
    sessions.bind("s1", key, now=1000.0)
    assert sessions.continues("s1", key, now=1001.0)
    assert not sessions.continues("s1", other, now=1001.0)
    assert not sessions.continues("s1", key, now=1000.0 + 31 * 60)
    sessions.bind("s1", other, now=1002.0)  # the same id again: the newer browser has it
    assert sessions.continues("s1", other, now=1003.0) and not sessions.continues("s1", key, 1003.0)
    sessions.touch("s1", now=1000.0 + 29 * 60)
    assert sessions.continues("s1", other, now=1000.0 + 40 * 60)
    sessions.forget("s1")
    assert not sessions.continues("s1", other, now=1000.0 + 40 * 60)


def test_staff_accounts_and_the_append_only_audit_log(store):
    from bot import audit

    settings = get_settings()
    user = staff_accounts.add_user(store, "ana", "nurse", "a long password")
    assert user.id and user.name == "ana"
    with pytest.raises(staff_accounts.AccountError):
        staff_accounts.add_user(store, "ana", "nurse", "a long password")
    assert staff_accounts.sign_in(store, settings, "ana", "wrong", "127.0.0.1").cookie is None
    done = staff_accounts.sign_in(store, settings, "ana", "a long password", "127.0.0.1")
    assert done.cookie
    found = staff_accounts.session(store, settings, done.cookie)
    assert found is not None and found.user.name == "ana"
    staff_accounts.sign_out(store, done.cookie, "127.0.0.1")
    assert staff_accounts.session(store, settings, done.cookie) is None
    actions = [row["action"] for row in audit.rows(store)]
    assert actions == ["account created", "wrong password", "signed in", "signed out"]
    with pytest.raises(store.integrity_errors, match="append-only"), store.transaction() as conn:
        conn.execute("update audit_log set actor = 'someone else'")
    with pytest.raises(store.integrity_errors, match="append-only"):
        store.db.execute("delete from audit_log")
    assert len(audit.rows(store)) == 4


def test_a_number_has_one_active_checkin_programme(store):
    from bot.checkins.schedule import load_schedule
    from bot.checkins.store import CheckinStore, EnrolmentError

    checkins = CheckinStore(store)
    now = utcnow()
    first = checkins.enrol(
        phone=PHONE, procedure="kyphoplasty", procedure_at=now, zone="America/Chicago",
        enrolled_by="ana", schedule=load_schedule(), now=now,
    )  # fmt: skip
    assert checkins.active_for(PHONE)["id"] == first and checkins.checkins(first)
    with pytest.raises(EnrolmentError):
        checkins.enrol(
            phone=PHONE, procedure="kyphoplasty", procedure_at=now, zone="America/Chicago",
            enrolled_by="ana", schedule=load_schedule(), now=now,
        )  # fmt: skip
    text_id = checkins.add_text(first, None, "intro", now)
    assert text_id and checkins.texts(first)[0]["id"] == text_id
    assert checkins.stop(first, "ana", "moved away", now) and not checkins.stop(first, "a", "", now)
    assert checkins.active_for(PHONE) is None


# -- the reconciler and retention, over Rasa's own events table ----------------------


def tracker_store(store: Store) -> Any:
    """Our tracker store class as endpoints.yml configures it, on the store's database."""
    import sqlalchemy as sa
    from rasa.shared.core.domain import Domain

    from bot.tracker_store import ClinicSQLTrackerStore

    if store.dialect == "sqlite":
        return ClinicSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(store.path))
    url = sa.engine.make_url(get_settings().database_url)
    return ClinicSQLTrackerStore(
        domain=Domain.empty(), dialect="postgresql", host=url.host, port=url.port,
        db=url.database, username=url.username, password=url.password,
    )  # fmt: skip


def say(rasa: Any, sender: str, text: str, at: float, advice: Any = None) -> None:
    import asyncio

    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    parse = {
        "intent": {"name": "report_symptom"},
        "entities": [{"entity": "symptom", "value": "numbness"}],
    }
    events = [UserUttered(text, parse["intent"], parse["entities"], parse, timestamp=at)]
    if advice:
        events.append(ActionExecuted(advice, timestamp=at + 0.01))
    tracker = asyncio.run(rasa.retrieve(sender)) or DialogueStateTracker(sender, slots=[])
    for event in events:
        tracker.update(event)
    asyncio.run(rasa.save(tracker))


def test_the_reconciler_and_retention_read_rasas_events(store, monkeypatch):
    from bot.reconcile import reconcile
    from bot.retention import purge, purge_if_due

    monkeypatch.setenv("RECONCILE_GRACE_SECONDS", "0")
    monkeypatch.setenv("RETENTION_DAYS", "30")
    get_settings.cache_clear()
    settings = get_settings()
    rasa = tracker_store(store)
    assert rasa.engine.dialect.name == store.dialect
    now = time.time()
    say(rasa, "rest:old", "legs numb", now - 40 * DAY, advice="utter_red_flag_urgent")
    say(rasa, "rest:recent", "a question", now - 2 * DAY)
    say(rasa, "rest:quiet", "a question", now - 40 * DAY)
    # another worker reconciling at this moment: this one skips
    with open_store().exclusive("reconcile"):
        assert reconcile(store, settings) == 0
    assert reconcile(store, settings) == 1 and reconcile(store, settings) == 0
    [row] = store.list()
    assert row["sender"] == "rest:old" and row["source"] == "reconciled"
    # the old conversation is kept while its escalation is open
    assert purge(store, settings, now, dry_run=True)["conversations"] == 1
    assert store.resolve(row["id"], "called")
    with open_store().exclusive("retention"):
        assert purge_if_due(store, settings, now) == {}
    counts = purge_if_due(store, settings, now)
    assert counts["conversations"] == 2
    left = {r[0] for r in store.db.execute("select distinct sender_id from events").fetchall()}
    assert left == {"rest:recent"}
    assert purge_if_due(store, settings, now + 60) == {}  # hourly
    rasa.engine.dispose()


def test_the_sqlite_file_is_not_opened_behind_a_configured_postgresql(store, backend):
    path = get_settings().assistant_db
    if backend == "sqlite":
        assert Store(path).has_table("outbox")
        return
    settings = get_settings()
    assert settings.database_url and path == settings.assistant_db
    with pytest.raises(RuntimeError, match="DATABASE_URL is set"):
        Store(path).list()
    assert not path.exists()
