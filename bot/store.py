"""The assistant's own data in SQLite (sqlite-utils): escalations and their outbox.

One file, named by the ASSISTANT_DB setting, shared with Rasa's tracker store.
Opened lazily; every write is one transaction.

Tables (created by `bot.store_schema`): escalations, escalation_reports, outbox,
notification_attempts, meta.

Only what the clinic needs is kept: the message text is cut to 500 characters.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence

import sqlite_utils

from bot import clock
from bot.store_schema import create_tables
from bot.tiers import more_urgent

STATUSES = ("open", "acknowledged", "resolved")
MAX_MESSAGE = 500


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
    """Escalations, reports and the notification outbox in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db: Optional[sqlite_utils.Database] = None

    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._db = sqlite_utils.Database(conn)
            self._create()
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.conn.close()
            self._db = None

    def _create(self) -> None:
        assert self._db is not None
        create_tables(self._db)

    # -- escalations ------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
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
        twice changes nothing.
        """
        at = iso(now or utcnow())
        text = (message or "")[:MAX_MESSAGE]
        found = json.dumps(sorted(set(symptoms)))
        with self.transaction() as conn:
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
                self._update(
                    conn,
                    "escalations",
                    escalation_id,
                    {"tier": new_tier, "symptoms": merged, "updated_at": at},
                )
                reason = "more urgent" if new_tier != old_tier else None
                created = False
            else:
                escalation_id = self._insert(
                    conn,
                    "escalations",
                    {
                        "created_at": at,
                        "updated_at": at,
                        "channel": channel,
                        "sender": sender,
                        "tier": tier,
                        "symptoms": found,
                        "message": text,
                        "status": "open",
                        "source": source,
                    },
                )
                new_tier, reason, created = tier, "new", True
            self._insert(
                conn,
                "escalation_reports",
                {
                    "escalation_id": escalation_id,
                    "event_key": event_key,
                    "at": at,
                    "tier": tier,
                    "symptoms": found,
                    "message": text,
                    "source": source,
                },
            )
            if reason:
                for notifier in notifiers:
                    self._insert(
                        conn,
                        "outbox",
                        {
                            "escalation_id": escalation_id,
                            "notifier": notifier,
                            "reason": reason,
                            "created_at": at,
                            "attempts": 0,
                            "next_attempt_at": at,
                        },
                    )
        return Recorded(int(escalation_id), created=created, duplicate=False, tier=new_tier)

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

    @staticmethod
    def _decode(row: Dict[str, Any]) -> Dict[str, Any]:
        row = dict(row)
        if isinstance(row.get("symptoms"), str):
            row["symptoms"] = json.loads(row["symptoms"])
        return row

    # -- outbox -----------------------------------------------------------------

    def due_notifications(
        self, now: Optional[datetime] = None, limit: int = 20
    ) -> List[Dict[str, Any]]:
        return list(
            self.db["outbox"].rows_where(
                "delivered_at is null and next_attempt_at <= ?",
                [iso(now or utcnow())],
                order_by="id",
                limit=limit,
            )
        )

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


_stores: Dict[Path, Store] = {}


def get_store(path: Optional[Path] = None) -> Store:
    """The store for `path` (default: the ASSISTANT_DB setting), opened once."""
    from bot.settings import get_settings

    target = Path(path or get_settings().assistant_db)
    if target not in _stores:
        _stores[target] = Store(target)
    return _stores[target]
