"""The reconciler against Rasa's own tracker-store `events` table, on the database by settings
(a real SQLite file, or PostgreSQL with TEST_DATABASE=postgresql)."""

import json
import time

import pytest

from bot.reconcile import reconcile
from bot.settings import get_settings
from bot.store import open_store
from tests.support.profiles import create_events_table


@pytest.fixture
def store(monkeypatch):
    monkeypatch.setenv("RECONCILE_GRACE_SECONDS", "5")
    get_settings.cache_clear()
    s = open_store()
    create_events_table()
    yield s
    s.close()


def add(store, sender, kind, ts, data, action=None, intent=None):
    store.db.execute(
        "insert into events (sender_id, type_name, timestamp, intent_name, action_name, data) "
        "values (?, ?, ?, ?, ?, ?)",
        [sender, kind, ts, intent, action, json.dumps(data)],
    )


def red_flag_turn(store, sender, ts, action="utter_red_flag_urgent"):
    parse = {
        "intent": {"name": "report_symptom"},
        "entities": [{"entity": "symptom", "value": "numbness"}],
    }
    add(
        store,
        sender,
        "user",
        ts,
        {"text": "legs numb", "parse_data": parse, "input_channel": "rest"},
        intent="report_symptom",
    )
    add(store, sender, "action", ts + 0.01, {}, action=action)


def test_an_unrecorded_red_flag_turn_is_recorded_once(store):
    old = time.time() - 60
    red_flag_turn(store, "rest:a", old)
    assert reconcile(store, get_settings()) == 1
    assert reconcile(store, get_settings()) == 0
    [row] = store.list()
    assert row["tier"] == "urgent" and row["symptoms"] == ["numbness"]
    assert row["source"] == "reconciled"


def test_a_turn_the_action_recorded_is_left_alone(store):
    from bot.escalations import Turn, record

    old = time.time() - 60
    red_flag_turn(store, "rest:a", old)
    record(
        store, get_settings(), Turn("rest:a", "rest", "urgent", ["numbness"], "x", old), "action"
    )
    assert reconcile(store, get_settings()) == 0
    assert len(store.list()) == 1


def test_recent_turns_wait_for_the_grace_period(store):
    red_flag_turn(store, "rest:a", time.time())
    assert reconcile(store, get_settings()) == 0
    assert reconcile(store, get_settings(), now=time.time() + 10) == 1


def test_emergency_advice_records_an_emergency(store):
    red_flag_turn(store, "rest:b", time.time() - 60, action="utter_red_flag_emergency")
    reconcile(store, get_settings())
    assert store.list()[0]["tier"] == "emergency"


def test_no_tracker_store_yet_is_fine():
    assert reconcile(open_store(), get_settings()) == 0
