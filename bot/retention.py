"""Keep what patients wrote only as long as the clinic needs it (`RETENTION_DAYS`, default 30).

The worker calls `purge_if_due` about once an hour; `python -m bot purge` runs it by hand
(`--dry-run` counts without deleting). What goes once a conversation has been quiet for
RETENTION_DAYS days:

- the conversation itself: every row of Rasa's `events` table for that conversation, which
  holds the patient's words and the parse data. A conversation is kept while it has an
  escalation that is not resolved, or urgent advice the reconciler has not checked yet, so
  purging can never lose a warning sign;
- the SMS replies and numbered choices (sms_messages, sms_choices); each MessageSid stays,
  with no number and no reply, so a replayed old webhook still runs nothing;
- in escalations resolved more than RETENTION_DAYS ago: the patient's message, the callback
  number and the conversation id. Tier, symptoms, times, status and the staff's note stay,
  as the record of what the clinic was told and did;
- in check-in programmes that ended before then: the replies' words and the number
  (`bot.checkins.retention`).

SMS opt-outs are kept: a STOP must be honoured for as long as the number might text again.
On SQLite deletes run with `PRAGMA secure_delete`, so SQLite overwrites the freed pages; on
PostgreSQL (DATABASE_URL) the same SQL runs through the store's connection, and autovacuum
reclaims the deleted rows' space. One worker at a time purges (`Store.exclusive`).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Dict, List, Optional, Tuple

from bot.checkins.retention import redact as redact_checkins
from bot.reconcile import ADVICE_NAMES, CURSOR
from bot.settings import Settings
from bot.store import Store, iso

logger = logging.getLogger(__name__)

DAY = 86400.0
LAST_RUN = "retention_last_run"
EVERY_SECONDS = 3600.0
REDACTED = "redacted"


def _tables(store: Store) -> set:
    names = ("events", "sms_messages", "checkin_enrolments")
    return {name for name in names if store.has_table(name)}


def _stale_conversations(cutoff: float, cursor: int) -> Tuple[str, List[object]]:
    """SQL (and its parameters) for the conversations quiet since before `cutoff`, with
    nothing still needing them."""
    names = ADVICE_NAMES
    marks = ", ".join("?" for _ in names)
    sql = (
        "select sender_id from events group by sender_id having max(timestamp) < ? "
        "except select sender_id from events "
        f"where type_name = 'action' and action_name in ({marks}) and id > ? "
        "except select sender from escalations where status != 'resolved'"
    )
    return sql, [cutoff, *names, cursor]


KINDS = ("conversations", "events", "sms_messages", "escalations_redacted", "checkins_redacted")


def purge(
    store: Store, settings: Settings, now: Optional[float] = None, dry_run: bool = False
) -> Dict[str, int]:
    """Delete or redact what is older than the retention period. Returns counts per kind
    (all 0 when another process is purging at this moment)."""
    with store.exclusive("retention") as mine:
        if not mine:
            logger.warning("retention: another process is purging now; skipped")
            return dict.fromkeys(KINDS, 0)
        return _purge(store, settings, now, dry_run)


def _purge(store: Store, settings: Settings, now: Optional[float], dry_run: bool) -> Dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    if settings.retention_days <= 0:
        return counts
    sqlite = store.dialect == "sqlite"
    now = time.time() if now is None else now
    cutoff = now - settings.retention_days * DAY
    cutoff_iso = iso(datetime.fromtimestamp(cutoff, tz=timezone.utc))
    if sqlite:
        store.db.conn.execute("PRAGMA secure_delete = ON")
    tables = _tables(store)
    cursor = int(store.get_meta(CURSOR, "0"))
    with store.transaction() as conn:
        if "events" in tables:
            stale, params = _stale_conversations(cutoff, cursor)
            conversations, events = conn.execute(
                "select count(distinct sender_id), count(*) from events "
                f"where sender_id in ({stale})",
                params,
            ).fetchone()
            counts.update(conversations=conversations, events=events)
            if not dry_run:
                conn.execute(f"delete from events where sender_id in ({stale})", params)
        if "sms_messages" in tables:
            counts["sms_messages"] = conn.execute(
                "select count(*) from sms_messages where received_at < ? "
                "and (phone != '' or reply is null or reply != '[]')",
                [cutoff_iso],
            ).fetchone()[0]
            if not dry_run:
                # the MessageSid stays, so a replay of an old webhook still runs nothing
                conn.execute(
                    "update sms_messages set phone = '', reply = '[]' "
                    "where received_at < ? and (phone != '' or reply is null or reply != '[]')",
                    [cutoff_iso],
                )
                conn.execute("delete from sms_choices where offered_at < ?", [cutoff_iso])
        if "checkin_enrolments" in tables:
            counts["checkins_redacted"] = redact_checkins(conn, cutoff_iso, dry_run)
        old = [
            row[0]
            for row in conn.execute(
                "select id from escalations where status = 'resolved' and resolved_at < ? "
                "and sender != ?",
                [cutoff_iso, REDACTED],
            )
        ]
        counts["escalations_redacted"] = len(old)
        if old and not dry_run:
            marks = ", ".join("?" for _ in old)
            conn.execute(
                "update escalations set message = null, callback_number = null, sender = ? "
                f"where id in ({marks})",
                [REDACTED, *old],
            )
            conn.execute(
                f"update escalation_reports set message = null where escalation_id in ({marks})",
                old,
            )
    if sqlite and not dry_run and any(counts.values()):
        # Move the overwritten pages out of the write-ahead log into the file now.
        store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if any(counts.values()):
        logger.info(
            "retention%s: %d conversations (%d events), %d SMS replies, %d escalations redacted",
            " (dry run)" if dry_run else "",
            counts["conversations"],
            counts["events"],
            counts["sms_messages"],
            counts["escalations_redacted"],
        )
    return counts


def purge_if_due(store: Store, settings: Settings, now: Optional[float] = None) -> Dict[str, int]:
    """`purge` at most once an hour (the last run is kept in the database), by one worker."""
    now = time.time() if now is None else now
    with store.exclusive("retention") as mine:
        if not mine or now - float(store.get_meta(LAST_RUN, "0")) < EVERY_SECONDS:
            return {}
        counts = _purge(store, settings, now, dry_run=False)
        store.set_meta(LAST_RUN, str(now))
        return counts
