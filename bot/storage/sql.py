"""The Store on PostgreSQL, through SQLAlchemy Core (DATABASE_URL=postgresql://...).

The same interface and the same results as the SQLite store (`bot.store.SqliteStore`);
the contract tests (tests/bot/test_store_contract.py) run against both. What differs is
how several processes on several machines stay correct:

- `record` takes a transaction-level advisory lock on the conversation (the sender), so the
  action and the reconciler recording the same turn, or two turns of one conversation on
  two Rasa servers, attach to one escalation;
- `claim_notifications` takes due rows with `SELECT ... FOR UPDATE SKIP LOCKED` and gives
  each a lease (`claimed_until`): two workers claiming at once get different rows, and a
  row whose worker died goes to another when the lease ends;
- `transaction()` (the modules written for SQLite: staff accounts, audit, check-ins, the
  chain) takes one transaction-level advisory lock first, so they keep SQLite's one writer
  at a time and every read-then-write in them stays right; `exclusive=False` for the
  single-statement writes that need no such lock (SMS state);
- `exclusive(name)` is `pg_try_advisory_lock`: the reconciler and retention run in one
  worker at a time, the others skip that cycle;
- the tables are created under an advisory lock (`bot.storage.schema.create_schema`).

Connections are pooled per process (DATABASE_POOL_SIZE, DATABASE_MAX_OVERFLOW; checked
before use, so a restarted PostgreSQL costs one failed request at most, not a dead pool).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from bot.storage import schema
from bot.storage.portable import pyformat
from bot.storage.schema import escalation_reports, escalations, meta, notification_attempts, outbox
from bot.store import (
    CLAIM_LEASE_SECONDS,
    Store,
    iso,
    utcnow,
)

# advisory lock keys: the writers' lock, and the namespace of the per-conversation locks
WRITER_LOCK = 7_301_016_002
RECORD_NAMESPACE = 730_116

_engines: Dict[Tuple[str, int, int], sa.engine.Engine] = {}
_ready: weakref.WeakSet[sa.engine.Engine] = weakref.WeakSet()  # engines with the schema
_guard = threading.Lock()


def engine_for(url: str, pool_size: int = 5, max_overflow: int = 5) -> sa.engine.Engine:
    """One pooled engine per URL and process."""
    key = (url, pool_size, max_overflow)
    with _guard:
        if key not in _engines:
            _engines[key] = sa.create_engine(
                url,
                future=True,
                pool_pre_ping=True,
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_timeout=30,
                connect_args={"connect_timeout": 10, "application_name": "clinic-assistant"},
            )
        return _engines[key]


def dispose_engines() -> None:
    """Close every pooled connection (tests, and a process about to fork)."""
    with _guard:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _ready.clear()


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a job's name."""
    return int.from_bytes(
        hashlib.sha256(f"clinic:{name}".encode()).digest()[:8], "big", signed=True
    )


class SqlCursor:
    """What the modules written for sqlite3 read from a cursor: fetchone, fetchall,
    iteration, rowcount, description. The rows are fetched at once."""

    def __init__(self, result: Any) -> None:
        self.rowcount = int(result.rowcount)
        self.description: Optional[List[Tuple[Any, ...]]] = None
        self._rows: List[Tuple[Any, ...]] = []
        if result.returns_rows:
            names = list(result.keys())  # noqa: SIM118 (a result, not a dict)
            self.description = [(name, None, None, None, None, None, None) for name in names]
            self._rows = [tuple(row) for row in result.fetchall()]
        self._at = 0

    def fetchone(self) -> Optional[Tuple[Any, ...]]:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchall(self) -> List[Tuple[Any, ...]]:
        rest, self._at = self._rows[self._at :], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Tuple[Any, ...]]:
        return iter(self.fetchall())

    @property
    def lastrowid(self) -> int:
        raise AttributeError("no lastrowid on PostgreSQL: use bot.storage.portable.insert_id")


class SqlConnection:
    """A SQLAlchemy connection taking sqlite3-style calls: `execute(sql, [args])`, `?`."""

    def __init__(self, conn: sa.engine.Connection) -> None:
        self.sa = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> SqlCursor:
        params = tuple(int(a) if isinstance(a, bool) else a for a in args)
        return SqlCursor(self.sa.exec_driver_sql(pyformat(sql), params))


class _Reader:
    """`store.db` on PostgreSQL: `execute`, each statement in a transaction of its own on a
    pooled connection (what sqlite3 in autocommit does for the SQLite store)."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    @property
    def conn(self) -> _Reader:
        return self

    def execute(self, sql: str, args: Sequence[Any] = ()) -> SqlCursor:
        with self.store.engine.begin() as conn:
            return SqlConnection(conn).execute(sql, args)


def _rows(result: Any) -> List[Dict[str, Any]]:
    return [dict(row._mapping) for row in result]


class SqlStore(Store):
    """Escalations, reports, the outbox and meta on PostgreSQL (SQLAlchemy Core)."""

    dialect = "postgresql"

    def __init__(
        self,
        url: str,
        path: Optional[Path] = None,
        pool_size: Optional[int] = None,
        max_overflow: Optional[int] = None,
    ) -> None:
        from bot.settings import get_settings

        settings = get_settings()
        self.url = url
        # the local file whose folder keeps turns the tracker store could not write
        self.path = Path(path or settings.assistant_db)
        self.engine = engine_for(
            url,
            settings.database_pool_size if pool_size is None else pool_size,
            settings.database_max_overflow if max_overflow is None else max_overflow,
        )

    def _schema(self) -> None:
        if self.engine not in _ready:
            schema.create_schema(self.engine)
            _ready.add(self.engine)

    @contextmanager
    def _begin(self) -> Iterator[sa.engine.Connection]:
        self._schema()
        with self.engine.begin() as conn:
            yield conn

    @property
    def db(self) -> _Reader:
        self._schema()
        return _Reader(self)

    def close(self) -> None:
        """Nothing to close: the connections are the process's pool (`dispose_engines`)."""

    @contextmanager
    def transaction(self, exclusive: bool = True) -> Iterator[SqlConnection]:
        with self._begin() as conn:
            if exclusive:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(WRITER_LOCK)))
            yield SqlConnection(conn)

    def has_table(self, name: str) -> bool:
        self._schema()
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(sa.func.to_regclass(name))).scalar()
        return found is not None

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        key = lock_key(name)
        conn = self.engine.connect()
        try:
            got = bool(conn.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar())
            conn.commit()  # the session's lock outlives this transaction
            try:
                yield got
            finally:
                if got:
                    try:
                        conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                        conn.commit()
                    except sa.exc.SQLAlchemyError:
                        conn.invalidate()  # a lost connection took its lock with it
        finally:
            conn.close()

    # -- escalations ------------------------------------------------------------------

    @contextmanager
    def one_conversation(self, sender: str) -> Iterator[SqlConnection]:
        """Not the one-writer lock: a lock of this conversation's, so other patients' red
        flags are recorded at the same time on other servers."""
        with self.transaction(exclusive=False) as conn:
            conn.execute("select pg_advisory_xact_lock(?, hashtext(?))", [RECORD_NAMESPACE, sender])
            yield conn

    def set_callback_number(self, escalation_id: int, number: str) -> None:
        with self._begin() as conn:
            conn.execute(
                sa.update(escalations)
                .where(escalations.c.id == escalation_id)
                .values(callback_number=number, updated_at=iso(utcnow()))
            )

    def get(self, escalation_id: int) -> Optional[Dict[str, Any]]:
        with self._begin() as conn:
            found = _rows(
                conn.execute(sa.select(escalations).where(escalations.c.id == escalation_id))
            )
            if not found:
                return None
            row = self._decode(found[0])
            row["reports"] = [
                self._decode(r)
                for r in _rows(
                    conn.execute(
                        sa.select(escalation_reports)
                        .where(escalation_reports.c.escalation_id == escalation_id)
                        .order_by(escalation_reports.c.id)
                    )
                )
            ]
            row["notifications"] = _rows(
                conn.execute(
                    sa.select(outbox)
                    .where(outbox.c.escalation_id == escalation_id)
                    .order_by(outbox.c.id)
                )
            )
        return row

    def list(self, status: Optional[str] = None) -> List[Dict[str, Any]]:
        query = sa.select(escalations).order_by(escalations.c.id)
        if status:
            query = query.where(escalations.c.status == status)
        with self._begin() as conn:
            return [self._decode(r) for r in _rows(conn.execute(query))]

    def acknowledge(self, escalation_id: int) -> bool:
        return self._move(
            escalation_id, "acknowledged", {"acknowledged_at": iso(utcnow())}, ("open",)
        )

    def resolve(self, escalation_id: int, note: str) -> bool:
        return self._move(
            escalation_id,
            "resolved",
            {"resolved_at": iso(utcnow()), "resolution_note": note[:2000]},
            ("open", "acknowledged"),
        )

    def _move(
        self, escalation_id: int, status: str, extra: Dict[str, Any], allowed_from: Sequence[str]
    ) -> bool:
        """One conditional UPDATE: of two staff moving the same alert, one wins."""
        with self._begin() as conn:
            done = conn.execute(
                sa.update(escalations)
                .where(escalations.c.id == escalation_id, escalations.c.status.in_(allowed_from))
                .values(status=status, updated_at=iso(utcnow()), **extra)
            )
            return bool(done.rowcount == 1)

    # -- outbox -----------------------------------------------------------------------

    @staticmethod
    def _due(at: str) -> Any:
        return sa.and_(
            outbox.c.delivered_at.is_(None),
            outbox.c.next_attempt_at <= at,
            sa.or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= at),
        )

    def due_notifications(
        self, now: Optional[datetime] = None, limit: int = 20
    ) -> List[Dict[str, Any]]:
        at = iso(now or utcnow())
        with self._begin() as conn:
            return _rows(
                conn.execute(
                    sa.select(outbox).where(self._due(at)).order_by(outbox.c.id).limit(limit)
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
        with self._begin() as conn:
            rows = _rows(
                conn.execute(
                    sa.select(outbox)
                    .where(self._due(at), outbox.c.id.not_in(list(exclude)))
                    .order_by(outbox.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            if rows:
                conn.execute(
                    sa.update(outbox)
                    .where(outbox.c.id.in_([row["id"] for row in rows]))
                    .values(claimed_until=until)
                )
        for row in rows:
            row["claimed_until"] = until
        return rows

    def pending_count(self) -> int:
        with self._begin() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(outbox)
                    .where(outbox.c.delivered_at.is_(None))
                ).scalar_one()
            )

    def mark_attempt(
        self,
        outbox_id: int,
        ok: bool,
        error: str = "",
        retry_in: float = 0.0,
        now: Optional[datetime] = None,
    ) -> None:
        moment = now or utcnow()
        values: Dict[str, Any] = {
            "last_error": None if ok else error[:500],
            "claimed_until": None,
            "attempts": outbox.c.attempts + 1,
        }
        if ok:
            values["delivered_at"] = iso(moment)
        else:
            values["next_attempt_at"] = iso(moment + timedelta(seconds=retry_in))
        with self._begin() as conn:
            conn.execute(sa.update(outbox).where(outbox.c.id == outbox_id).values(**values))
            conn.execute(
                sa.insert(notification_attempts).values(
                    outbox_id=outbox_id, at=iso(moment), ok=int(ok), error=error[:500]
                )
            )

    # -- meta -------------------------------------------------------------------------

    def get_meta(self, key: str, default: str = "") -> str:
        with self._begin() as conn:
            found = conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).first()
        return found[0] if found else default

    def set_meta(self, key: str, value: str) -> None:
        upsert = pg_insert(meta).values(key=key, value=value)
        with self._begin() as conn:
            conn.execute(
                upsert.on_conflict_do_update(
                    index_elements=[meta.c.key], set_={"value": upsert.excluded.value}
                )
            )
