"""Retention against the database by settings (a real SQLite file, or PostgreSQL with
TEST_DATABASE=postgresql) that Rasa's own SQL tracker store has written."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels.sms_format import Choice
from bot.channels.sms_store import SmsStore
from bot.escalations import Turn, record
from bot.reconcile import reconcile
from bot.retention import EVERY_SECONDS, REDACTED, purge, purge_if_due
from bot.settings import get_settings
from bot.store import open_store
from tests.support.profiles import postgresql_only, query, sqlite_only, tracker_store_kwargs

DAY = 86400
CANARY = "zebra-canary-7731"


@pytest.fixture
def settings(monkeypatch):
    monkeypatch.setenv("RETENTION_DAYS", "30")
    monkeypatch.setenv("RECONCILE_GRACE_SECONDS", "0")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def store():
    s = open_store()
    yield s
    s.close()


@pytest.fixture
def rasa():
    return SQLTrackerStore(**tracker_store_kwargs())


def say(rasa, sender, text, at, advice=None):
    """One patient turn written by Rasa's tracker store, optionally answered with urgent advice."""
    events = [UserUttered(text, {"name": "report_symptom"}, timestamp=at)]
    if advice:
        events.append(ActionExecuted(advice, timestamp=at + 0.01))
    old = asyncio.run(rasa.retrieve(sender))
    tracker = old or DialogueStateTracker(sender, slots=[])
    for event in events:
        tracker.update(event)
    asyncio.run(rasa.save(tracker))


def conversations(store):
    return {row[0] for row in store.db.execute("select distinct sender_id from events")}


def test_only_conversations_quiet_for_the_whole_period_go(rasa, store, settings):
    now = time.time()
    say(rasa, "rest:old", f"question {CANARY}", now - 40 * DAY)
    say(rasa, "rest:recent", "question", now - 2 * DAY)
    say(rasa, "rest:came-back", "question", now - 40 * DAY)
    say(rasa, "rest:came-back", "and another", now - 1 * DAY)
    counts = purge(store, settings, now)
    assert counts["conversations"] == 1
    assert conversations(store) == {"rest:recent", "rest:came-back"}
    assert asyncio.run(rasa.retrieve("rest:old")) is None
    assert len(asyncio.run(rasa.retrieve("rest:came-back")).events) == 2


@sqlite_only("reads the bytes of the SQLite file and its write-ahead log")
def test_the_patients_words_are_gone_from_the_file(rasa, store, settings):
    """Deleted rows leave their bytes behind unless secure_delete is on (some SQLite builds,
    this one included, compile it on) and the write-ahead log is checkpointed."""
    db = get_settings().assistant_db
    now = time.time()
    say(rasa, "rest:old", f"my words {CANARY}", now - 40 * DAY)
    say(rasa, "rest:recent", "kept on the same page", now)
    assert CANARY.encode() in db.read_bytes() + _wal(db)
    purge(store, settings, now)
    assert CANARY.encode() not in db.read_bytes() + _wal(db)


def _wal(db):
    wal = db.with_name(db.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


@postgresql_only("reads every PostgreSQL table; the SQLite file's bytes are checked above")
def test_the_patients_words_are_gone_from_every_postgresql_table(rasa, store, settings):
    now = time.time()
    say(rasa, "rest:old", f"my words {CANARY}", now - 40 * DAY)
    say(rasa, "rest:recent", "kept in the same table", now)
    assert _tables_holding(CANARY) == ["events"]
    purge(store, settings, now)
    assert _tables_holding(CANARY) == []
    assert conversations(store) == {"rest:recent"}


def _tables_holding(text):
    """The tables of the public schema with a row whose text holds `text`."""
    tables = [
        row["tablename"]
        for row in query("select tablename from pg_tables where schemaname = 'public'")
    ]
    return sorted(
        table
        for table in tables
        if query(f'select 1 from "{table}" t where t::text like ? limit 1', [f"%{text}%"])
    )


def test_a_dry_run_counts_and_deletes_nothing(rasa, store, settings):
    now = time.time()
    say(rasa, "rest:old", "question", now - 40 * DAY)
    counts = purge(store, settings, now, dry_run=True)
    assert counts == {
        "conversations": 1,
        "events": 1,
        "sms_messages": 0,
        "escalations_redacted": 0,
        "checkins_redacted": 0,
    }
    assert conversations(store) == {"rest:old"}


def test_zero_days_keeps_everything(rasa, store, settings):
    from dataclasses import replace

    say(rasa, "rest:old", "question", time.time() - 400 * DAY)
    assert not any(purge(store, replace(settings, retention_days=0)).values())
    assert conversations(store) == {"rest:old"}


def test_urgent_advice_the_reconciler_has_not_checked_is_kept(rasa, store, settings):
    """Action server down: no escalation was recorded. Purging first must not lose it."""
    now = time.time()
    say(rasa, "rest:flag", "legs numb", now - 40 * DAY, advice="utter_red_flag_urgent")
    purge(store, settings, now)
    assert conversations(store) == {"rest:flag"}
    assert reconcile(store, settings) == 1
    assert len(store.list()) == 1


def test_an_unresolved_escalation_keeps_its_conversation(rasa, store, settings):
    start = time.time()
    say(rasa, "rest:flag", "legs numb", start, advice="utter_red_flag_urgent")
    turn = Turn("rest:flag", "rest", "urgent", ["numbness"], "legs numb", start)
    record(store, settings, turn, "action")
    reconcile(store, settings)
    later = start + 40 * DAY
    purge(store, settings, later)
    assert conversations(store) == {"rest:flag"}

    [row] = store.list()
    store.resolve(row["id"], "called back, seen in clinic")
    counts = purge(store, settings, later)
    assert conversations(store) == set()
    assert counts["escalations_redacted"] == 1
    [row] = store.list()
    assert row["sender"] == REDACTED and row["message"] is None
    assert row["callback_number"] is None
    assert row["tier"] == "urgent" and row["symptoms"] == ["numbness"]
    assert row["resolution_note"] == "called back, seen in clinic"
    reports = store.db.execute("select message from escalation_reports").fetchall()
    assert reports == [(None,)]
    assert purge(store, settings, later)["escalations_redacted"] == 0  # once


def test_sms_replies_go_but_the_message_sid_and_an_opt_out_stay(store, settings):
    sms = SmsStore(store)
    then = datetime.fromtimestamp(time.time() - 40 * DAY, tz=timezone.utc)
    sms.claim("SM1", "+15555550100", now=then)
    sms.answered("SM1", ["old answer"])
    sms.claim("SM2", "+15555550100")
    sms.offer("+15555550100", [Choice(1, "Yes", "/affirm")], now=then)
    sms.opt_out("+15555550100", "STOP")
    counts = purge(store, settings)
    assert counts["sms_messages"] == 1
    assert sms.reply_for("SM1") == [] and sms.reply_for("SM2") is None
    assert sms.db.execute("select phone from sms_messages order by message_sid").fetchall() == [
        ("",),
        ("+15555550100",),
    ]
    assert not sms.claim("SM1", "+15555550100")  # a replay of the old webhook runs nothing
    assert purge(store, settings)["sms_messages"] == 0  # once
    assert sms.db.execute("select count(*) from sms_choices").fetchone() == (0,)
    assert sms.is_opted_out("+15555550100")


def test_the_worker_purges_at_most_hourly(rasa, store, settings):
    now = time.time()
    say(rasa, "rest:a", "question", now - 40 * DAY)
    assert purge_if_due(store, settings, now)["conversations"] == 1
    say(rasa, "rest:b", "question", now - 40 * DAY)
    assert purge_if_due(store, settings, now + 60) == {}
    assert purge_if_due(store, settings, now + EVERY_SECONDS + 1)["conversations"] == 1


def test_the_purge_command(rasa, store, settings, capsys):
    from bot.cli import main

    say(rasa, "rest:old", "question", time.time() - 3 * DAY)
    assert main(["purge", "--days", "2", "--dry-run"]) == 0
    assert "would delete 1 conversations (1 events)" in capsys.readouterr().out
    assert conversations(store) == {"rest:old"}
    assert main(["purge", "--days", "2"]) == 0
    assert "deleted 1 conversations" in capsys.readouterr().out
    assert conversations(store) == set()
