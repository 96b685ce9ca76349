from datetime import timedelta

import pytest

from bot.store import Store, utcnow


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "a.db")
    yield s
    s.close()


def record(store, key="rest:a:1.0", tier="urgent", sender="rest:a", symptoms=("numbness",)):
    return store.record(
        sender=sender,
        channel="rest",
        tier=tier,
        symptoms=list(symptoms),
        message="my legs are numb",
        event_key=key,
        source="action",
        notifiers=("webhook", "email"),
    )


def test_a_report_creates_an_open_escalation_and_its_notifications(store):
    done = record(store)
    assert done.created and not done.duplicate
    row = store.get(done.escalation_id)
    assert row["status"] == "open" and row["tier"] == "urgent"
    assert row["symptoms"] == ["numbness"] and row["created_at"].endswith("+00:00")
    assert [n["notifier"] for n in row["notifications"]] == ["webhook", "email"]


def test_the_same_turn_twice_is_stored_once(store):
    first = record(store)
    second = record(store)
    assert second.duplicate and second.escalation_id == first.escalation_id
    assert len(store.get(first.escalation_id)["reports"]) == 1
    assert store.pending_count() == 2


def test_repeat_reports_attach_without_flooding_the_clinic(store):
    first = record(store, key="k1")
    again = record(store, key="k2", symptoms=("tingling",))
    assert again.escalation_id == first.escalation_id and not again.created
    row = store.get(first.escalation_id)
    assert row["symptoms"] == ["numbness", "tingling"] and len(row["reports"]) == 2
    assert store.pending_count() == 2


def test_a_more_urgent_report_upgrades_and_notifies_again(store):
    first = record(store, key="k1")
    worse = record(store, key="k2", tier="emergency", symptoms=("chest_pain",))
    assert worse.tier == "emergency" and store.get(first.escalation_id)["tier"] == "emergency"
    assert store.pending_count() == 4


def test_a_resolved_escalation_is_not_reused(store):
    first = record(store, key="k1")
    assert store.resolve(first.escalation_id, "called back, fine")
    second = record(store, key="k2")
    assert second.created and second.escalation_id != first.escalation_id


def test_status_moves_open_acknowledged_resolved(store):
    done = record(store)
    assert store.acknowledge(done.escalation_id)
    assert not store.acknowledge(done.escalation_id)
    assert store.resolve(done.escalation_id, "ok")
    assert not store.resolve(done.escalation_id, "again")
    assert [r["id"] for r in store.list("resolved")] == [done.escalation_id]


def test_failed_attempts_are_rescheduled_and_kept(store):
    record(store)
    now = utcnow()
    due = store.due_notifications(now=now)
    store.mark_attempt(due[0]["id"], ok=False, error="refused", retry_in=60, now=now)
    assert [d["id"] for d in store.due_notifications(now=now)] == [due[1]["id"]]
    later = store.due_notifications(now=now + timedelta(seconds=61))
    assert due[0]["id"] in [d["id"] for d in later]
    store.mark_attempt(due[0]["id"], ok=True, now=now)
    row = store.get(due[0]["escalation_id"])["notifications"][0]
    assert row["attempts"] == 2 and row["delivered_at"]


def test_message_text_is_cut_to_what_the_clinic_needs(store):
    done = store.record(
        sender="s",
        channel="rest",
        tier="urgent",
        symptoms=["fever"],
        message="x" * 5000,
        event_key="k",
        source="action",
        notifiers=(),
    )
    assert len(store.get(done.escalation_id)["message"]) == 500


def test_connections_opening_a_new_file_at_once_all_get_in(tmp_path):
    """Each connection switches a new file to WAL; unguarded, SQLite answered a second switch
    "database is locked" at once (it failed 2 runs in 2 on the old code)."""
    import threading

    failures: list = []
    for attempt in range(150):
        path = tmp_path / f"new{attempt}.db"
        start = threading.Barrier(6)

        def open_it(path=path, start=start) -> None:
            store = Store(path)
            try:
                start.wait()
                store.db.execute("select count(*) from escalations").fetchone()
            except Exception as error:  # noqa: BLE001 (the test collects every failure)
                failures.append(error)
            finally:
                store.close()

        threads = [threading.Thread(target=open_it) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert failures == []
