"""The tracker store against a database that another process keeps locked: the SQLite file
(its write lock), or PostgreSQL with TEST_DATABASE=postgresql (a lock on the events table),
and a PostgreSQL server of its own that restarts mid-conversation."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Iterator, List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import unsaved
from bot.reconcile import reconcile
from bot.settings import get_settings
from bot.store import Store
from bot.tracker_store import ClinicSQLTrackerStore, turn_kept
from tests.support.locks import POSTGRESQL_HOLDER, Lock
from tests.support.profiles import postgresql_only, query, sqlite_only, tracker_store_kwargs

CANARY = "zebra-canary-4412 my legs went numb"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "assistant.db"
    monkeypatch.setenv("ASSISTANT_DB", str(path))
    monkeypatch.setenv("TRACKER_STORE_BUSY_SECONDS", "1")
    monkeypatch.setenv("TRACKER_STORE_SAVE_ATTEMPTS", "2")
    get_settings.cache_clear()
    Store(path).db.execute("select 1")  # the project's store creates the file (WAL)
    return path


@pytest.fixture
def tracker_store(db: Path) -> Iterator[ClinicSQLTrackerStore]:
    yield ClinicSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(db))


def red_flag_turn(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, [])
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(
        UserUttered(
            CANARY,
            intent={"name": "report_symptom", "confidence": 1.0},
            entities=[{"entity": "symptom", "value": "numbness"}],
            input_channel="rest",
        )
    )
    tracker.update(ActionExecuted("utter_red_flag_urgent"))
    tracker.update(BotUttered("Please call the clinic now."))
    return tracker


def stored(sender: str) -> List[str]:
    """The types of the events stored for `sender`, on the database by settings."""
    rows = query("select type_name from events where sender_id = ? order by id", [sender])
    return [row["type_name"] for row in rows]


async def _save_while_ticking(store: ClinicSQLTrackerStore, tracker: DialogueStateTracker) -> float:
    """Save, and return the longest the event loop went without running anything else."""
    longest = 0.0
    done = False

    async def tick() -> None:
        nonlocal longest
        last = time.monotonic()
        while not done:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            longest = max(longest, now - last)
            last = now

    ticker = asyncio.ensure_future(tick())
    await store.save(tracker)
    done = True
    await ticker
    return longest


SQLITE_LOCK = "another process holds the SQLite file's write lock"


@sqlite_only(SQLITE_LOCK)
def test_a_save_waits_out_a_lock_off_the_event_loop(db, tracker_store, monkeypatch):
    monkeypatch.setattr(tracker_store, "busy_seconds", 10.0)
    tracker_store.engine.dispose()
    lock = Lock(db, 3)
    stall = asyncio.run(_save_while_ticking(tracker_store, red_flag_turn("rest:a")))
    lock.wait()
    assert stored("rest:a") == ["action", "user", "action", "bot"]
    assert stall < 0.5  # other conversations went on while this one waited
    assert turn_kept("rest:a")


@postgresql_only("another process locks the events table on PostgreSQL")
def test_a_save_waits_out_a_table_lock_off_the_event_loop_on_postgresql():
    rasa = ClinicSQLTrackerStore(domain=Domain.empty(), **tracker_store_kwargs())
    try:
        lock = Lock(get_settings().database_url, 3, holder=POSTGRESQL_HOLDER)
        started = time.monotonic()
        stall = asyncio.run(_save_while_ticking(rasa, red_flag_turn("rest:a")))
        lock.wait()
        assert time.monotonic() - started > 2  # it did wait for the lock
        assert stored("rest:a") == ["action", "user", "action", "bot"]
        assert stall < 0.5  # other conversations went on while this one waited
        assert turn_kept("rest:a")
    finally:
        rasa.engine.dispose()


@sqlite_only(f"{SQLITE_LOCK} (PostgreSQL: the restart test below)")
def test_a_turn_that_cannot_be_stored_is_kept_said_and_reconciled(db, tracker_store, caplog):
    caplog.set_level(logging.WARNING)
    lock = Lock(db, 6)  # longer than 2 tries of 1 s
    asyncio.run(tracker_store.save(red_flag_turn("rest:b")))
    assert stored("rest:b") == []
    # the channel is told, once
    assert not turn_kept("rest:b")
    assert turn_kept("rest:b")
    # an ERROR without the patient's words
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and "could not store a turn" in errors[0].getMessage()
    assert "zebra-canary" not in caplog.text
    # a copy beside the database, readable by the owner only
    [(sender, events)] = list(unsaved.kept(db))
    assert sender == "rest:b" and any(e.get("text") == CANARY for e in events)
    [spooled] = list(unsaved.directory(db).glob("*.json"))
    assert spooled.stat().st_mode & 0o077 == 0
    # the next turn continues from it, even after a restart of the Rasa server
    again = ClinicSQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(db))
    tracker = asyncio.run(again.retrieve("rest:b"))
    assert tracker is not None and tracker.latest_message.text == CANARY
    lock.wait()
    # the worker records the warning sign from the copy while the file is locked or not
    store = Store(db)
    assert reconcile(store, get_settings()) == 1
    [row] = store.list()
    assert row["sender"] == "rest:b" and row["tier"] == "urgent" and row["source"] == "reconciled"
    # once the file is free, the next save stores the kept turn and the new one, in order
    tracker.update(ActionExecuted("action_listen"))
    asyncio.run(again.save(tracker))
    assert stored("rest:b") == ["action", "user", "action", "bot", "action"]
    assert list(unsaved.kept(db)) == []
    assert reconcile(store, get_settings()) == 0


def test_postgresql_restarting_during_a_conversation_loses_no_turn(tmp_path, monkeypatch):
    """A PostgreSQL server of its own, stopped as a crash would while a red-flag turn is
    saved, then started again: the turn is kept, said, reconciled, and stored after."""
    import sqlalchemy as sa

    from bot.storage.sql import dispose_engines
    from bot.store import open_store
    from tests.support import postgres

    try:
        server = postgres.PostgresServer().start()
    except postgres.PostgresUnavailable as error:
        if postgres.required():
            pytest.fail(f"PostgreSQL: {error}")
        pytest.skip(f"PostgreSQL: {error}")
    try:
        url = sa.engine.make_url(server.new_database())
        monkeypatch.setenv("DATABASE_URL", str(url))
        monkeypatch.setenv("TRACKER_STORE_SAVE_ATTEMPTS", "2")
        monkeypatch.setenv("RECONCILE_GRACE_SECONDS", "0")
        get_settings.cache_clear()
        settings = get_settings()
        rasa = ClinicSQLTrackerStore(
            domain=Domain.empty(), dialect="postgresql", host=url.host, port=url.port,
            db=url.database, username=url.username,
        )  # fmt: skip
        assert rasa.db_path == settings.assistant_db
        store = open_store()
        asyncio.run(rasa.save(red_flag_turn("rest:before")))

        def stored_pg(sender: str) -> List[str]:
            rows = store.db.execute(
                "select type_name from events where sender_id = ? order by id", [sender]
            ).fetchall()
            return [row[0] for row in rows]

        assert stored_pg("rest:before") == ["action", "user", "action", "bot"]
        server.pause()
        asyncio.run(rasa.save(red_flag_turn("rest:c")))
        assert not turn_kept("rest:c")  # the channel says it was not saved
        [(sender, _)] = list(unsaved.kept(settings.assistant_db))
        assert sender == "rest:c"
        server.resume()
        # the worker's next cycle escalates it from the kept copy
        assert reconcile(store, settings) == 2  # the one stored before, and the kept one
        # a read on a connection a restart broke is tried again on a new one
        asyncio.run(rasa.retrieve("rest:before"))  # the pool holds a live connection now
        server.pause()
        server.resume()
        again = asyncio.run(rasa.retrieve("rest:before"))
        assert again is not None and again.latest_message.text == CANARY
        tracker = asyncio.run(rasa.retrieve("rest:c"))
        assert tracker is not None and tracker.latest_message.text == CANARY
        tracker.update(ActionExecuted("action_listen"))
        asyncio.run(rasa.save(tracker))
        assert stored_pg("rest:c") == ["action", "user", "action", "bot", "action"]
        assert list(unsaved.kept(settings.assistant_db)) == []
        assert turn_kept("rest:c")
        assert reconcile(store, settings) == 0
        rasa.engine.dispose()
    finally:
        from bot import store as store_module

        store_module._stores.clear()
        dispose_engines()
        server.stop()
