"""The assistant's own data: escalations, their reports, the notification outbox, meta.

`Store` is the one narrow interface every backend gives (and the type the other modules
name); `get_store()` picks the backend by settings:

- no DATABASE_URL (the embedded default): `SqliteStore`, sqlite-utils over one SQLite file
  (ASSISTANT_DB), shared with Rasa's tracker store; opened lazily, every write one
  transaction (BEGIN IMMEDIATE: writers queue, readers go on);
- DATABASE_URL=postgresql://...: `bot.storage.sql.SqlStore`, the same tables on PostgreSQL
  through SQLAlchemy Core (tested by the same contract tests, tests/bot/test_store_contract.py).

`Store(path)` still opens the SQLite store of that file, as before.

Tables (SQLite: `bot.store_schema`; PostgreSQL: `bot.storage.schema`): escalations,
escalation_reports, outbox, notification_attempts, meta.

Several workers may send the outbox at once: `claim_notifications` gives each due row to
one of them, with a lease (`claimed_until`) that ends when the attempt is marked, or runs
out if the worker died, so another sends it then.

Only what the clinic needs is kept: the message text is cut to 500 characters.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Type

import sqlite_utils

from bot import clock
from bot.storage.portable import INTEGRITY_ERRORS, insert_id
from bot.store_schema import create_tables
from bot.tiers import more_urgent

STATUSES = ("open", "acknowledged", "resolved")
MAX_MESSAGE = 500
# how long a claimed notification stays with the worker that claimed it
CLAIM_LEASE_SECONDS = 300.0


def utcnow() -> datetime:
    """The current time in UTC (the tests' clock file when ASSISTANT_CLOCK_FILE is set)."""
    return clock.from_file() or datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Recorded:
    """What recording a red-flag turn did."""

    escalation_id: int
    created: bool
    duplicate: bool
    tier: str


class Store:
    """The narrow interface of the assistant's own tables, whatever the database.

    Escalations: `record`, `set_callback_number`, `get`, `list`, `acknowledge`, `resolve`.
    Outbox: `due_notifications`, `claim_notifications`, `mark_attempt`, `pending_count`.
    Small state: `get_meta`, `set_meta`. For the modules that keep their own tables here
    (SMS state, staff accounts, check-ins, retention): `transaction()` (a connection whose
    `execute` takes `?` SQL; see `bot.storage.portable`), `db.execute` for reads,
    `has_table`, and `exclusive(name)` for jobs that must not run twice at once.

    Calling `Store(path)` itself gives the SQLite implementation, `SqliteStore(path)`.
    """

    dialect = ""
    path: Path
    # what a unique or not-null violation raises
    integrity_errors: Tuple[Type[BaseException], ...] = INTEGRITY_ERRORS

    def __new__(cls, *args: Any, **kwargs: Any) -> Store:
        if cls is Store:
            cls = SqliteStore
        return super().__new__(cls)

    @property
    def db(self) -> Any:
        """Something with `execute(sql, args)` for reads (`?` placeholders)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @contextmanager
    def transaction(self, exclusive: bool = True) -> Iterator[Any]:
        """One write transaction; `exclusive` (the default) makes it the only writer at a
        time, as on SQLite, so a read-then-write inside it stays right."""
        raise NotImplementedError
        yield

    def has_table(self, name: str) -> bool:
        raise NotImplementedError

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """Yields True to the one process that holds the lock `name` now, False to the
        others (which skip the job): the reconciler and retention run once at a time."""
        raise NotImplementedError
        yield

    @contextmanager
    def one_conversation(self, sender: str) -> Iterator[Any]:
        """A write transaction in which no other turn of `sender`'s conversation records a
        red flag, on any server (SQLite: the one writer at a time)."""
        with self.transaction() as conn:
            yield conn

    def record(
        self,
        *,
        sender: str,
        channel: str,
        tier: str,
        symptoms: Sequence[str],
        message: str,
        event_key: str,
        source: str,
        notifiers: Iterable[str],
        now: Optional[datetime] = None,
    ) -> Recorded:
        """Record a red-flag turn: a new escalation, or a report attached to the open one.

        New escalations, and ones that become more urgent, queue one notification
        per notifier, in the same transaction. Recording the same `event_key`
        twice changes nothing. Written once, in portable SQL, for every backend.
        """
        at = iso(now or utcnow())
        text = (message or "")[:MAX_MESSAGE]
        found = json.dumps(sorted(set(symptoms)))
        with self.one_conversation(sender) as conn:
            seen = conn.execute(
                "select r.escalation_id, e.tier from escalation_reports r "
                "join escalations e on e.id = r.escalation_id where r.event_key = ?",
                [event_key],
            ).fetchone()
            if seen:
                return Recorded(int(seen[0]), created=False, duplicate=True, tier=seen[1])
            open_row = conn.execute(
                "select id, tier, symptoms from escalations where sender = ? and status != ? "
                "order by id desc limit 1",
                [sender, "resolved"],
            ).fetchone()
            if open_row:
                escalation_id, old_tier, old_symptoms = open_row
                new_tier = more_urgent(tier, old_tier)
                merged = json.dumps(sorted(set(json.loads(old_symptoms)) | set(symptoms)))
                conn.execute(
                    "update escalations set tier = ?, symptoms = ?, updated_at = ? where id = ?",
                    [new_tier, merged, at, escalation_id],
                )
                reason = "more urgent" if new_tier != old_tier else None
                created = False
            else:
                escalation_id = insert_id(
                    conn,
                    "insert into escalations (created_at, updated_at, channel, sender, tier, "
                    "symptoms, message, status, source) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [at, at, channel, sender, tier, found, text, "open", source],
                )
                new_tier, reason, created = tier, "new", True
            conn.execute(
                "insert into escalation_reports (escalation_id, event_key, at, tier, symptoms, "
                "message, source) values (?, ?, ?, ?, ?, ?, ?)",
                [escalation_id, event_key, at, tier, found, text, source],
            )
            for notifier in notifiers if reason else ():
                conn.execute(
                    "insert into outbox (escalation_id, notifier, reason, created_at, attempts, "
                    "next_attempt_at) values (?, ?, ?, ?, 0, ?)",
                    [escalation_id, notifier, reason, at, at],
                )
        return Recorded(int(escalation_id), created=created, duplicate=False, tier=new_tier)

    def set_callback_number(self, escalation_id: int, number: str) -> None:
        raise NotImplementedError

    def get(self, escalation_id: int) -> Optional[Dict[str, Any]]:
        raise NotImplementedError

    def list(self, status: Optional[str] = None) -> List[Dict[str, Any]]:
        raise NotImplementedError

    def acknowledge(self, escalation_id: int) -> bool:
        raise NotImplementedError

    def resolve(self, escalation_id: int, note: str) -> bool:
        raise NotImplementedError

    def due_notifications(
        self, now: Optional[datetime] = None, limit: int = 20
    ) -> List[Dict[str, Any]]:
        """The undelivered notifications due now that no worker holds, oldest first."""
        raise NotImplementedError

    def claim_notifications(
        self,
        now: Optional[datetime] = None,
        limit: int = 1,
        lease_seconds: float = CLAIM_LEASE_SECONDS,
        exclude: Sequence[int] = (),
    ) -> List[Dict[str, Any]]:
        """Take up to `limit` due notifications (not those in `exclude`) for this worker until
        `mark_attempt` (or the lease ends): another worker claiming at the same time gets
        other rows."""
        raise NotImplementedError

    def pending_count(self) -> int:
        raise NotImplementedError

    def mark_attempt(
        self,
        outbox_id: int,
        ok: bool,
        error: str = "",
        retry_in: float = 0.0,
        now: Optional[datetime] = None,
    ) -> None:
        raise NotImplementedError

    def get_meta(self, key: str, default: str = "") -> str:
        raise NotImplementedError

    def set_meta(self, key: str, value: str) -> None:
        raise NotImplementedError

    @staticmethod
    def _decode(row: Dict[str, Any]) -> Dict[str, Any]:
        row = dict(row)
        if isinstance(row.get("symptoms"), str):
            row["symptoms"] = json.loads(row["symptoms"])
        return row


class SqliteStore(Store):
    """Escalations, reports and the notification outbox in one SQLite file (sqlite-utils)."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db: Optional[sqlite_utils.Database] = None

    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            self._refuse_the_configured_postgresql()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            conn.execute("PRAGMA busy_timeout=30000")
            self._db = sqlite_utils.Database(conn)
            self._create()
        return self._db

    def _refuse_the_configured_postgresql(self) -> None:
        """With DATABASE_URL set, ASSISTANT_DB names no database of the project's: a caller
        opening it as SQLite would see an empty queue, silently. Refuse, loudly."""
        from bot.settings import get_settings

        settings = get_settings()
        if settings.database_url and self.path.resolve() == settings.assistant_db:
            raise RuntimeError(
                "DATABASE_URL is set: the assistant's tables are on PostgreSQL. Open them with "
                "bot.store.get_store() or open_store(), not Store(ASSISTANT_DB)"
            )

    def close(self) -> None:
        if self._db is not None:
            self._db.conn.close()
            self._db = None

    def _create(self) -> None:
        """Switch to WAL and create and upgrade the tables, one connection at a time (a
        blocking lock file beside the database): several opening at once never race on an
        ALTER TABLE, nor on the journal-mode change, which SQLite answers "database is locked"
        at once, without waiting, when another connection is switching it too."""
        assert self._db is not None
        target = self.path.parent / f"{self.path.name}.schema.lock"
        descriptor = os.open(target, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            self._db.conn.execute("PRAGMA journal_mode=WAL")
            create_tables(self._db)
        finally:
            os.close(descriptor)  # closing releases the lock

    # -- escalations ------------------------------------------------------------

    @contextmanager
    def transaction(self, exclusive: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: writers queue, readers go on); public for
        the modules that keep their own tables in this file (SMS state, retention)."""
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def has_table(self, name: str) -> bool:
        row = self.db.execute(
            "select 1 from sqlite_master where type = 'table' and name = ?", [name]
        ).fetchone()
        return row is not None

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """A lock file beside the database (`<db>.<name>.lock`, flock): one holder at a time
        on this machine, where every process using this SQLite file runs."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        target = self.path.parent / f"{self.path.name}.{name}.lock"
        descriptor = os.open(target, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)

    def _insert(self, conn: sqlite3.Connection, table: str, row: Dict[str, Any]) -> int:
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        cursor = conn.execute(f"insert into {table} ({names}) values ({marks})", list(row.values()))
        return int(cursor.lastrowid or 0)

    def _update(
        self, conn: sqlite3.Connection, table: str, row_id: int, values: Dict[str, Any]
    ) -> None:
        sets = ", ".join(f"{name} = ?" for name in values)
        conn.execute(f"update {table} set {sets} where id = ?", [*values.values(), row_id])

    def set_callback_number(self, escalation_id: int, number: str) -> None:
        with self.transaction() as conn:
            self._update(
                conn,
                "escalations",
                escalation_id,
                {"callback_number": number, "updated_at": iso(utcnow())},
            )

    def get(self, escalation_id: int) -> Optional[Dict[str, Any]]:
        rows = list(self.db["escalations"].rows_where("id = ?", [escalation_id]))
        if not rows:
            return None
        row = self._decode(rows[0])
        row["reports"] = [
            self._decode(r)
            for r in self.db["escalation_reports"].rows_where(
                "escalation_id = ?", [escalation_id], order_by="id"
            )
        ]
        row["notifications"] = list(
            self.db["outbox"].rows_where("escalation_id = ?", [escalation_id], order_by="id")
        )
        return row

    def list(self, status: Optional[str] = None) -> List[Dict[str, Any]]:
        """Escalations, oldest first; only those with `status` when given."""
        where, args = ("status = ?", [status]) if status else (None, [])
        return [
            self._decode(r) for r in self.db["escalations"].rows_where(where, args, order_by="id")
        ]

    def acknowledge(self, escalation_id: int) -> bool:
        return self._move(
            escalation_id,
            "acknowledged",
            {"acknowledged_at": iso(utcnow())},
            allowed_from=("open",),
        )

    def resolve(self, escalation_id: int, note: str) -> bool:
        return self._move(
            escalation_id,
            "resolved",
            {"resolved_at": iso(utcnow()), "resolution_note": note[:2000]},
            allowed_from=("open", "acknowledged"),
        )

    def _move(
        self, escalation_id: int, status: str, extra: Dict[str, Any], allowed_from: Sequence[str]
    ) -> bool:
        with self.transaction() as conn:
            row = conn.execute(
                "select status from escalations where id = ?", [escalation_id]
            ).fetchone()
            if not row or row[0] not in allowed_from:
                return False
            self._update(
                conn,
                "escalations",
                escalation_id,
                {"status": status, "updated_at": iso(utcnow()), **extra},
            )
        return True

    # -- outbox -----------------------------------------------------------------

    def due_notifications(
        self, now: Optional[datetime] = None, limit: int = 20
    ) -> List[Dict[str, Any]]:
        at = iso(now or utcnow())
        return list(
            self.db["outbox"].rows_where(
                "delivered_at is null and next_attempt_at <= ? "
                "and (claimed_until is null or claimed_until <= ?)",
                [at, at],
                order_by="id",
                limit=limit,
            )
        )

    def claim_notifications(
        self,
        now: Optional[datetime] = None,
        limit: int = 1,
        lease_seconds: float = CLAIM_LEASE_SECONDS,
        exclude: Sequence[int] = (),
    ) -> List[Dict[str, Any]]:
        moment = now or utcnow()
        at, until = iso(moment), iso(moment + timedelta(seconds=lease_seconds))
        with self.transaction() as conn:  # BEGIN IMMEDIATE: one claimer at a time
            skip = f"and id not in ({', '.join('?' for _ in exclude)}) " if exclude else ""
            cursor = conn.execute(
                "select * from outbox where delivered_at is null and next_attempt_at <= ? "
                f"and (claimed_until is null or claimed_until <= ?) {skip}order by id limit ?",
                [at, at, *exclude, limit],
            )
            names = [c[0] for c in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            for row in rows:
                self._update(conn, "outbox", row["id"], {"claimed_until": until})
                row["claimed_until"] = until
        return rows

    def pending_count(self) -> int:
        return self.db.execute("select count(*) from outbox where delivered_at is null").fetchone()[
            0
        ]

    def mark_attempt(
        self,
        outbox_id: int,
        ok: bool,
        error: str = "",
        retry_in: float = 0.0,
        now: Optional[datetime] = None,
    ) -> None:
        moment = now or utcnow()
        with self.transaction() as conn:
            update: Dict[str, Any] = {"last_error": None if ok else error[:500]}
            update["claimed_until"] = None
            if ok:
                update["delivered_at"] = iso(moment)
            else:
                update["next_attempt_at"] = iso(moment + timedelta(seconds=retry_in))
            self._update(conn, "outbox", outbox_id, update)
            conn.execute("update outbox set attempts = attempts + 1 where id = ?", [outbox_id])
            self._insert(
                conn,
                "notification_attempts",
                {"outbox_id": outbox_id, "at": iso(moment), "ok": int(ok), "error": error[:500]},
            )

    # -- meta ---------------------------------------------------------------------

    def get_meta(self, key: str, default: str = "") -> str:
        row = self.db.execute("select value from meta where key = ?", [key]).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "insert into meta (key, value) values (?, ?) "
                "on conflict(key) do update set value = excluded.value",
                [key, value],
            )


_stores: Dict[Any, Store] = {}


def open_store(path: Optional[Path] = None) -> Store:
    """A new store of its own, by settings: SQLite at `path` (default ASSISTANT_DB), or, with
    DATABASE_URL set and no `path`, PostgreSQL (its connections pooled per process). For
    callers that open and close one per request (the staff page's threads)."""
    from bot.settings import get_settings

    settings = get_settings()
    if path is None and settings.database_url:
        from bot.storage.sql import SqlStore

        return SqlStore(settings.database_url, path=settings.assistant_db)
    return SqliteStore(Path(path or settings.assistant_db))


def get_store(path: Optional[Path] = None) -> Store:
    """The store by settings (see `open_store`), opened once per process."""
    from bot.settings import get_settings

    settings = get_settings()
    key: Any = settings.database_url if path is None and settings.database_url else None
    key = key or Path(path or settings.assistant_db)
    if key not in _stores:
        _stores[key] = open_store(path)
    return _stores[key]
