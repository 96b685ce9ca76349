"""Reconcile the conversations with the escalations: no warning sign is lost.

Every time the assistant told a patient the urgent advice (the responses
utter_red_flag_emergency / utter_red_flag_urgent, chosen by rules in the Rasa
server), an escalation must exist for that turn. When the action server was
down, the action that records it never ran; this finds those turns in Rasa's
SQL tracker store (the `events` table in the same database: the SQLite file, or
DATABASE_URL's PostgreSQL, read through the store's connection) and records
them. Turns the tracker store could not write (the file stayed locked) are kept
beside the database (`bot.unsaved`) and read here too. The store's unique event
key makes a second try harmless, and one worker at a time runs it (`Store.exclusive`):
the others skip the cycle.

The cursor (the last event id checked) only moves past turns older than the grace
period: on PostgreSQL several Rasa servers commit their events out of id order, and the
grace period is far longer than any of their transactions.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Optional

from bot import unsaved
from bot.escalations import entity_values, record, user_turn
from bot.settings import Settings
from bot.store import Store
from bot.tiers import ADVICE_RESPONSES, UNSPECIFIED, advice_tier

logger = logging.getLogger(__name__)

ADVICE_NAMES = tuple(ADVICE_RESPONSES.values())
CURSOR = "reconcile_cursor"


def reconcile(store: Store, settings: Settings, now: Optional[float] = None) -> int:
    """Record every urgent-advice turn older than the grace period that has no
    escalation yet. Returns how many it recorded (0 when another worker is at it)."""
    with store.exclusive("reconcile") as mine:
        if not mine:
            return 0
        return _reconcile(store, settings, now)


def _reconcile(store: Store, settings: Settings, now: Optional[float]) -> int:
    recorded = _reconcile_unsaved(store, settings)
    if not store.has_table("events"):
        return recorded
    conn = store.db
    cutoff = (now or time.time()) - settings.reconcile_grace_seconds
    cursor = int(store.get_meta(CURSOR, "0"))
    names = ADVICE_NAMES
    rows = conn.execute(
        "select id, sender_id, action_name, timestamp from events where type_name = 'action' "
        f"and action_name in ({', '.join('?' for _ in names)}) and id > ? order by id",
        [*names, cursor],
    ).fetchall()
    for event_id, sender, action, timestamp in rows:
        if timestamp > cutoff:
            break  # the action server may still be recording this one
        user = conn.execute(
            "select timestamp, data from events where sender_id = ? and type_name = 'user' "
            "and id < ? order by id desc limit 1",
            [sender, event_id],
        ).fetchone()
        tier = advice_tier(action)
        if user and tier:
            data = {**json.loads(user[1]), "timestamp": user[0]}
            symptoms = entity_values(data, "symptom", "asked_symptom")
            turn = user_turn(sender, data, tier, sorted(set(symptoms)) or [UNSPECIFIED])
            result = record(store, settings, turn, source="reconciled")
            if not result.duplicate:
                recorded += 1
                logger.warning(
                    "Recorded escalation %s from the conversation log "
                    "(the action did not record it)",
                    result.escalation_id,
                )
        store.set_meta(CURSOR, str(event_id))
    return recorded


def _reconcile_unsaved(store: Store, settings: Settings) -> int:
    """Record the urgent-advice turns of conversations the tracker store could not write."""
    recorded = 0
    for sender, events in unsaved.kept(store.path):
        user = None
        for event in events:
            if event.get("event") == "user":
                user = event
            tier = advice_tier(event.get("name")) if event.get("event") == "action" else None
            if tier and user:
                symptoms = entity_values(user, "symptom", "asked_symptom")
                turn = user_turn(sender, user, tier, sorted(set(symptoms)) or [UNSPECIFIED])
                result = record(store, settings, turn, source="reconciled")
                if not result.duplicate:
                    recorded += 1
                    logger.warning(
                        "Recorded escalation %s from a turn the conversation store could "
                        "not keep",
                        result.escalation_id,
                    )
    return recorded
