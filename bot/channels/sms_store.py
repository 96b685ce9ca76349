"""The SMS channel's own state: opt-outs, answered messages, offered choices.

Same database and connection as `bot.store` (the ASSISTANT_DB file, or PostgreSQL with
DATABASE_URL); on SQLite the tables are created on first use, on PostgreSQL with the
store's (`bot.storage.schema`). Every write is one transaction and one statement, in SQL
both databases read alike (`on conflict do nothing`), so two Rasa servers answering the
same webhook delivery claim its MessageSid once.

Tables:
- sms_opt_outs: numbers that sent STOP (or another opt-out word) and not yet
  START; nothing is sent to them, replies and proactive messages alike;
- sms_messages: one row per Twilio MessageSid, holding the texts it was
  answered with, so a webhook delivered twice is answered twice the same way
  and the conversation runs once;
- sms_choices: the numbered choices last offered to a number ("Reply 1 for
  ..."), with the text each number stands for; replaced on every message.

Patients' messages are not stored here (the conversation itself is in Rasa's
tracker store); only the replies sent.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from bot.channels.sms_format import Choice
from bot.store import Store, get_store, iso, utcnow
from bot.store_schema import table

CHOICES_TTL = timedelta(hours=1)


class SmsStore:
    """Opt-outs, answered MessageSids and pending choices, over the assistant's Store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._ready = False

    @property
    def db(self) -> Any:
        self._tables()
        return self.store.db

    def _tables(self) -> None:
        if not self._ready:
            self._create()
            self._ready = True

    def _create(self) -> None:
        if self.store.dialect != "sqlite":
            return  # created with the store's tables
        db = self.store.db
        table(db, "sms_opt_outs").create(
            {"phone": str, "opted_out_at": str, "keyword": str, "message_sid": str},
            pk="phone",
            if_not_exists=True,
        )
        table(db, "sms_messages").create(
            {"message_sid": str, "phone": str, "received_at": str, "reply": str, "replied_at": str},
            pk="message_sid",
            if_not_exists=True,
        )
        table(db, "sms_choices").create(
            {"phone": str, "number": int, "title": str, "payload": str, "offered_at": str},
            pk=("phone", "number"),
            if_not_exists=True,
        )

    # -- opt-outs -----------------------------------------------------------------

    def is_opted_out(self, phone: str) -> bool:
        row = self.db.execute("select 1 from sms_opt_outs where phone = ?", [phone]).fetchone()
        return row is not None

    def opted_out_by(self, phone: str) -> Optional[str]:
        """The MessageSid of the message that opted `phone` out, "" if unknown, None if
        the number has not opted out."""
        row = self.db.execute(
            "select message_sid from sms_opt_outs where phone = ?", [phone]
        ).fetchone()
        return None if row is None else (row[0] or "")

    def opt_out(
        self,
        phone: str,
        keyword: str,
        message_sid: str = "",
        now: Optional[datetime] = None,
    ) -> bool:
        """Record an opt-out; False when the number had already opted out."""
        self._tables()
        with self.store.transaction(exclusive=False) as conn:
            cursor = conn.execute(
                "insert into sms_opt_outs (phone, opted_out_at, keyword, message_sid) "
                "values (?, ?, ?, ?) on conflict do nothing",
                [phone, iso(now or utcnow()), keyword.upper(), message_sid],
            )
            return cursor.rowcount == 1

    def opt_in(self, phone: str) -> bool:
        """Remove an opt-out; False when the number had not opted out."""
        self._tables()
        with self.store.transaction(exclusive=False) as conn:
            cursor = conn.execute("delete from sms_opt_outs where phone = ?", [phone])
            return cursor.rowcount == 1

    # -- answered messages --------------------------------------------------------

    def claim(self, message_sid: str, phone: str, now: Optional[datetime] = None) -> bool:
        """Take a MessageSid for answering; False when it was taken before."""
        self._tables()
        with self.store.transaction(exclusive=False) as conn:
            cursor = conn.execute(
                "insert into sms_messages (message_sid, phone, received_at) "
                "values (?, ?, ?) on conflict do nothing",
                [message_sid, phone, iso(now or utcnow())],
            )
            return cursor.rowcount == 1

    def answered(self, message_sid: str, texts: Sequence[str]) -> None:
        """Keep the texts a MessageSid was answered with."""
        self._tables()
        with self.store.transaction(exclusive=False) as conn:
            conn.execute(
                "update sms_messages set reply = ?, replied_at = ? where message_sid = ?",
                [json.dumps(list(texts)), iso(utcnow()), message_sid],
            )

    def reply_for(self, message_sid: str) -> Optional[List[str]]:
        """The texts a MessageSid was answered with; None while it is still being answered."""
        row = self.db.execute(
            "select reply from sms_messages where message_sid = ?", [message_sid]
        ).fetchone()
        if not row or row[0] is None:
            return None
        return list(json.loads(row[0]))

    # -- numbered choices ---------------------------------------------------------

    def offer(self, phone: str, choices: Sequence[Choice], now: Optional[datetime] = None) -> None:
        """Replace the choices pending for `phone` with `choices` (none clears them)."""
        at = iso(now or utcnow())
        self._tables()
        with self.store.transaction() as conn:
            conn.execute("delete from sms_choices where phone = ?", [phone])
            for choice in choices:
                conn.execute(
                    "insert into sms_choices (phone, number, title, payload, offered_at) "
                    "values (?, ?, ?, ?, ?)",
                    [phone, choice.number, choice.title, choice.payload, at],
                )

    def take_choice(
        self, phone: str, number: int, now: Optional[datetime] = None
    ) -> Optional[Choice]:
        """The choice `number` offered to `phone` within the last hour, or None."""
        since = iso((now or utcnow()) - CHOICES_TTL)
        row = self.db.execute(
            "select number, title, payload from sms_choices "
            "where phone = ? and number = ? and offered_at >= ?",
            [phone, number, since],
        ).fetchone()
        return Choice(int(row[0]), row[1], row[2]) if row else None

    def pending_choices(self, phone: str) -> Dict[int, str]:
        found = self.db.execute(
            "select number, payload from sms_choices where phone = ? order by number", [phone]
        ).fetchall()
        return {int(number): payload for number, payload in found}


_stores: Dict[Path, SmsStore] = {}


def get_sms_store(path: Optional[Path] = None) -> SmsStore:
    """The SMS store over `get_store(path)`, opened once."""
    store = get_store(path)
    if store.path not in _stores or _stores[store.path].store is not store:
        _stores[store.path] = SmsStore(store)
    return _stores[store.path]
