"""The patient is not left wondering: an emergency or urgent alert from an SMS conversation
that nobody has acknowledged after PATIENT_FOLLOWUP_MINUTES gets one text to the patient
(`patient_still_trying` in bot/replies.yml: we are still trying to reach you; if it gets
worse, call the after-hours line or go to the emergency room).

The text goes through the notification outbox (notifier `patient_sms`), so it is retried
like the clinic's notifications and shown with them on the alert page; it is queued once
per alert, and audited (actor "worker"). Website chats get nothing yet (see README).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Optional

from bot import audit, clock
from bot.escalations import SMS_PREFIX
from bot.settings import Settings
from bot.store import Store, iso
from bot.tiers import RED_FLAG_TIERS

logger = logging.getLogger(__name__)

NOTIFIER = "patient_sms"


def follow_up(store: Store, settings: Settings, now: Optional[datetime] = None) -> int:
    """Queue the patient's text for every alert that waited too long; returns how many."""
    if settings.patient_followup_minutes <= 0:
        return 0
    moment = now or clock.now()
    due_before = iso(moment - timedelta(minutes=settings.patient_followup_minutes))
    marks = ", ".join("?" for _ in RED_FLAG_TIERS)
    waiting = store.db.execute(
        f"select id from escalations where status = 'open' and tier in ({marks}) "
        "and created_at <= ? and substr(sender, 1, ?) = ? and id not in "
        "(select escalation_id from outbox where notifier = ?)",
        [*RED_FLAG_TIERS, due_before, len(SMS_PREFIX), SMS_PREFIX, NOTIFIER],
    ).fetchall()
    queued = 0
    for (escalation_id,) in waiting:
        with store.transaction() as conn:
            again = conn.execute(
                "select 1 from escalations where id = ? and status = 'open' and id not in "
                "(select escalation_id from outbox where notifier = ?)",
                [escalation_id, NOTIFIER],
            ).fetchone()
            if not again:
                continue
            conn.execute(
                "insert into outbox (escalation_id, notifier, reason, created_at, attempts, "
                "next_attempt_at) values (?, ?, ?, ?, 0, ?)",
                [escalation_id, NOTIFIER, "patient follow-up", iso(moment), iso(moment)],
            )
            audit.write(conn, "worker", "patient texted: still trying", escalation_id)
        queued += 1
        logger.warning("Escalation %s not acknowledged: the patient is texted", escalation_id)
    return queued
