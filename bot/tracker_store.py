"""Rasa's SQL tracker store, made to keep every turn when the SQLite file is busy.

Configured in endpoints.yml (`type: bot.tracker_store.ClinicSQLTrackerStore`). Differences
from Rasa 3.6's `SQLTrackerStore` on SQLite:
- every connection gets WAL and a busy timeout (TRACKER_STORE_BUSY_SECONDS), as the
  project's own store has: a writer in another process makes a save wait, not fail;
- reads and writes run in a worker thread, so a locked file holds up only the
  conversation that is waiting for it, never the event loop and every other patient;
- a failed save is tried again (TRACKER_STORE_SAVE_ATTEMPTS in all). If it still fails,
  the turn is not dropped: its events are kept in memory and on disk
  (`bot.unsaved`, read by the reconciler), the next turn of that conversation
  continues from them and stores them with its own, an ERROR is logged (no message
  text), and the channel is told (`turn_kept`) so the patient is not answered as if
  all were well. Rasa would log the error with the SQL parameters (patient words) and
  keep the turn in memory only, where nothing ever reads it again.

On PostgreSQL (`dialect: postgresql`, the scale-out profile) the SQLite tuning is skipped,
Rasa's own pool settings apply (SQL_POOL_SIZE, SQL_MAX_OVERFLOW), and the `events` table
is created under the same advisory lock as the project's tables, so several Rasa servers
starting at once do not race on it. Retries and kept turns work as on SQLite (a save while
PostgreSQL is down or restarting is tried again, then kept); the kept turns go beside
ASSISTANT_DB on the local disk, where this host's worker reconciles them. A read on a pooled
connection that a restart of PostgreSQL broke is tried once more on a new one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot import unsaved
from bot.settings import get_settings

logger = logging.getLogger(__name__)

# conversations whose latest turn could not be stored; the channel asks (turn_kept)
_not_kept: Set[str] = set()
# reads and writes get their own threads: saves waiting on a locked file never hold up
# the reads of other conversations (WAL lets readers go on beside a writer)
_reads = ThreadPoolExecutor(4, thread_name_prefix="tracker-read")
_writes = ThreadPoolExecutor(4, thread_name_prefix="tracker-write")


async def _in(pool: ThreadPoolExecutor, function: Any, *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(pool, function, *args)


def turn_kept(sender_id: str) -> bool:
    """False once after a turn of this conversation could not be stored."""
    if sender_id in _not_kept:
        _not_kept.discard(sender_id)
        return False
    return True


def _create_events_table(kwargs: Dict[str, Any]) -> None:
    """Create Rasa's `events` table on PostgreSQL under the schema advisory lock, before
    Rasa's own `create_all` (which then finds it): several servers starting at once would
    otherwise race on it, and Rasa waits 5 s after losing that race."""
    from bot.storage.schema import SCHEMA_LOCK

    names = ("dialect", "host", "port", "db", "username", "password", "login_db", "query")
    url = SQLTrackerStore.get_db_url(**{k: kwargs[k] for k in names if k in kwargs})
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.select([sa.func.pg_advisory_xact_lock(SCHEMA_LOCK)]))
            SQLTrackerStore.Base.metadata.create_all(conn)
    except sa.exc.SQLAlchemyError as error:  # Rasa's own start-up waits and tries again
        logger.warning("could not create the events table yet: %s", type(error).__name__)
    finally:
        engine.dispose()


class ClinicSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with WAL, a busy timeout, retries and no silent loss (see module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        settings = get_settings()
        self.busy_seconds = settings.tracker_store_busy_seconds
        self.attempts = max(1, settings.tracker_store_save_attempts)
        if str(kwargs.get("dialect", "")).startswith("postgresql"):
            _create_events_table(kwargs)
        super().__init__(*args, **kwargs)
        self.db_path: Optional[Path] = None
        self._pending: Dict[str, List[Dict[str, Any]]] = {}
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", self._configure_sqlite)
            self.engine.dispose()  # connections made before the hook are not reused
            database = self.engine.url.database
            if database and database != ":memory:":
                self.db_path = Path(database)
        else:
            # no file of its own: turns it could not store are kept beside ASSISTANT_DB
            self.db_path = settings.assistant_db
        if self.db_path is not None:
            # turns kept before a restart: continue from them
            self._pending = dict(unsaved.kept(self.db_path))

    def _configure_sqlite(self, connection: Any, _: Any) -> None:
        connection.execute(f"PRAGMA busy_timeout = {int(self.busy_seconds * 1000)}")
        connection.execute("PRAGMA journal_mode = WAL")

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        pending = self._pending.get(sender_id)
        if pending is not None and self.domain:
            return DialogueStateTracker.from_dict(sender_id, pending, self.domain.slots)
        try:
            return await _in(_reads, self._retrieve_sync, sender_id)
        except sa.exc.DBAPIError as error:
            if not error.connection_invalidated:
                raise
            # the database restarted since this connection was pooled (the pool is emptied
            # now): once more, on a new connection, rather than fail the patient's message
            return await _in(_reads, self._retrieve_sync, sender_id)

    def _retrieve_sync(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """SQLTrackerStore.retrieve (the latest session), in a thread."""
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
            events = [json.loads(row.data) for row in rows]
        if not (self.domain and events):
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        sender = tracker.sender_id
        error: Optional[Exception] = None
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(min(0.5 * 2 ** (attempt - 1), 5.0))
            try:
                await _in(_writes, self._write, tracker)
            except sa.exc.SQLAlchemyError as failed:
                error = failed
                logger.warning(
                    "could not store a turn of a conversation (try %s of %s): %s",
                    attempt + 1,
                    self.attempts,
                    type(failed.orig if hasattr(failed, "orig") else failed).__name__,
                )
                continue
            if self._pending.pop(sender, None) is not None and self.db_path:
                await _in(_writes, unsaved.forget, self.db_path, sender)
            return
        events = [event.as_dict() for event in tracker.events]
        self._pending[sender] = events
        _not_kept.add(sender)
        if self.db_path:
            await _in(_writes, unsaved.keep, self.db_path, sender, events)
        logger.error(
            "could not store a turn of a conversation after %s tries (%s): kept beside the "
            "database for the next turn and the reconciler",
            self.attempts,
            type(getattr(error, "orig", None) or error).__name__,
        )

    def _write(self, tracker: DialogueStateTracker) -> None:
        """SQLTrackerStore.save without the event broker: one transaction, in a thread."""
        started = time.monotonic()
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {})
                        .get("intent", {})
                        .get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
        waited = time.monotonic() - started
        if waited > 1:
            logger.warning("storing a turn waited %.1f s for the database", waited)
