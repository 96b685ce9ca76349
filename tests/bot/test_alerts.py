"""An alert's story and its changes, against the store by settings (a real SQLite file, or
PostgreSQL with TEST_DATABASE=postgresql) with Rasa's own tracker-store `events` table."""

import json
import sqlite3

import pytest

from bot import alerts, audit
from bot.escalations import event_key
from bot.store import Store, open_store
from tests.support.profiles import create_events_table


@pytest.fixture
def store():
    s = open_store()
    create_events_table()
    yield s
    s.close()


def say(store, sender, kind, ts, text):
    store.db.execute(
        "insert into events (sender_id, type_name, timestamp, data) values (?, ?, ?, ?)",
        [sender, kind, ts, json.dumps({"text": text})],
    )


def reported(store, sender="rest:a", ts=100.0, tier="urgent"):
    return store.record(
        sender=sender,
        channel="rest",
        tier=tier,
        symptoms=["numbness"],
        message="legs numb",
        event_key=event_key(sender, ts),
        source="action",
        notifiers=("webhook",),
    ).escalation_id


def test_the_conversation_shows_the_turns_around_the_report_and_marks_it(store):
    for i in range(20):
        say(store, "rest:a", "user", float(i), f"question {i}")
        say(store, "rest:a", "bot", i + 0.5, f"answer {i}")
    say(store, "rest:other", "user", 10.0, "someone else")
    say(store, "rest:a", "user", 100.0, "my legs are numb")
    say(store, "rest:a", "bot", 100.5, "Call the clinic now")
    say(store, "rest:a", "user", 101.0, "+1 555 555 1234")
    escalation = store.get(reported(store))
    turns = alerts.conversation(store, escalation)
    assert [t["text"] for t in turns if t["report"]] == ["my legs are numb"]
    texts = [t["text"] for t in turns]
    assert "someone else" not in texts and texts[-1] == "+1 555 555 1234"
    assert len(texts) == alerts.TURNS_BEFORE + 3 and texts[0] == "question 16"
    assert turns[1]["who"] == "assistant"


def test_no_conversation_when_retention_deleted_it(store):
    escalation = store.get(reported(store))
    assert alerts.conversation(store, escalation) == []


def test_every_notification_attempt_is_listed(store):
    escalation_id = reported(store)
    [row] = store.due_notifications()
    store.mark_attempt(row["id"], ok=False, error="webhook: 503")
    store.mark_attempt(row["id"], ok=True)
    found = alerts.attempts(store, escalation_id)
    assert [(a["notifier"], a["ok"], a["error"]) for a in found] == [
        ("webhook", 0, "webhook: 503"),
        ("webhook", 1, ""),
    ]


def test_resolve_needs_acknowledge_first_and_a_known_outcome(store):
    escalation_id = reported(store)
    assert not alerts.resolve(store, escalation_id, "ana", "no_answer", "")
    with pytest.raises(ValueError):
        alerts.resolve(store, escalation_id, "ana", "made up", "")
    assert alerts.acknowledge(store, escalation_id, "ana", "10.0.0.1")
    assert alerts.resolve(store, escalation_id, "ana", "no_answer", "tried twice")
    assert not alerts.acknowledge(store, escalation_id, "ana")
    assert alerts.reopen(store, escalation_id, "bo")
    row = store.get(escalation_id)
    assert row["status"] == "acknowledged" and row["outcome"] is None
    assert [(r["actor"], r["action"]) for r in audit.rows(store, escalation_id)] == [
        ("ana", "acknowledged"),
        ("ana", "resolved"),
        ("bo", "reopened"),
    ]
    assert audit.rows(store, escalation_id)[0]["remote"] == "10.0.0.1"


def test_the_queue_holds_open_and_acknowledged_emergency_first(store):
    first = reported(store, "rest:a", 1.0, "urgent")
    second = reported(store, "rest:b", 2.0, "emergency")
    third = reported(store, "rest:c", 3.0, "urgent")
    alerts.acknowledge(store, third, "ana")
    done = reported(store, "rest:d", 4.0, "emergency")
    alerts.acknowledge(store, done, "ana")
    alerts.resolve(store, done, "ana", "reached_advised", "")
    assert [row["id"] for row in alerts.queue(store)] == [second, first, third]


def test_the_audit_log_cannot_be_changed_or_deleted(store):
    audit.record(store, "ana", "viewed queue")
    for sql in ("delete from audit_log", "update audit_log set actor = 'x'"):
        with pytest.raises(store.integrity_errors, match="append-only"):
            store.db.execute(sql)
    assert len(audit.rows(store)) == 1


def test_figures_count_the_waiting_and_time_to_acknowledge(store, monkeypatch):
    from datetime import timedelta

    from bot import clock
    from bot.alert_figures import figures, percentile

    assert percentile([], 0.5) is None
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([4, 1, 3], 0.5) == 3
    start = clock.now()
    ids = [reported(store, f"rest:{i}", float(i)) for i in range(3)]
    for minutes, escalation_id in zip((5, 20), ids[:2], strict=False):
        monkeypatch.setattr(clock, "now", lambda m=minutes: start + timedelta(minutes=m))
        alerts.acknowledge(store, escalation_id, "ana")
    store.db.execute("insert into escalation_chain values (?, 1, ?)", [ids[2], "x"])
    found = figures(store)
    assert (found.waiting_now, found.acknowledged, found.went_up_the_chain) == (1, 2, 1)
    assert round(found.median_minutes) == 5 and round(found.p90_minutes) == 20


def test_a_database_from_before_gets_the_new_columns(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute(
            "create table escalations (id integer primary key, created_at text, updated_at text, "
            "channel text, sender text, tier text, symptoms text, message text, status text, "
            "callback_number text, source text, acknowledged_at text, resolved_at text, "
            "resolution_note text)"
        )
    store = Store(path)
    try:
        columns = set(store.db["escalations"].columns_dict)
        assert {"outcome", "acknowledged_by", "resolved_by"} <= columns
    finally:
        store.close()


def test_an_enrolled_patients_alert_shows_the_check_in_answers(store):
    from datetime import datetime, timezone

    from bot import staff_pages
    from bot.checkins.schedule import load_schedule
    from bot.checkins.store import CheckinStore

    checkins = CheckinStore(store)
    at = datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)
    programme = checkins.enrol(
        phone="+15555550123",
        procedure="kyphoplasty",
        procedure_at=at,
        zone="America/Chicago",
        enrolled_by="RN Lee",
        schedule=load_schedule(),
        now=at,
    )
    first = checkins.checkins(programme)[0]
    checkins.add_reply(
        enrolment_id=programme,
        checkin_id=first["id"],
        message_sid="SM" + "a" * 32,
        text="8 <b>worse</b>",
        kind="pain",
        value="8",
        alert=True,
        now=at,
    )
    row = store.get(reported(store, sender="sms:+15555550123"))
    answers = alerts.checkin_answers(store, row)
    assert answers[0]["text"] == "8 <b>worse</b>" and answers[0]["alert"]
    assert len(answers) == len(checkins.checkins(programme))
    page = staff_pages.alert_page(row, [], [], [], "RN Lee", "csrf", answers)
    assert "Check-in answers" in page and "8 &lt;b&gt;worse&lt;/b&gt;" in page
    assert "<b>worse" not in page
    other = store.get(reported(store, sender="rest:b", ts=200.0))
    assert alerts.checkin_answers(store, other) == []
    assert "Check-in answers" not in staff_pages.alert_page(other, [], [], [], "RN Lee", "c")
