"""The patient is not left wondering: an emergency or urgent alert that nobody has
acknowledged after PATIENT_FOLLOWUP_MINUTES gets one message to the patient
(`patient_still_trying` in bot/replies.yml: we are still trying to reach you; if it gets
worse, call the after-hours line or go to the emergency room): a text for an SMS
conversation, a message in the website chat for a web one if the chat is open then
(`bot.channels.web_push`; a closed chat gets nothing, recorded as not sent).

The message goes through the notification outbox (notifier `patient_sms` or `patient_web`),
so it is retried like the clinic's notifications and shown with them on the alert page; it
is queued once per alert, and audited (actor "worker"). Other channels get nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Optional

from bot import audit, clock
from bot.channels.web_push import PREFIX as WEB_PREFIX
from bot.escalations import SMS_PREFIX
from bot.settings import Settings
from bot.store import Store, iso
from bot.tiers import RED_FLAG_TIERS

logger = logging.getLogger(__name__)

# the notifier and the audit line for each channel's conversations, by their id's prefix
NOTIFIERS = {
    SMS_PREFIX: ("patient_sms", "patient texted: still trying"),
    WEB_PREFIX: ("patient_web", "patient messaged in the web chat: still trying"),
}


def follow_up(store: Store, settings: Settings, now: Optional[datetime] = None) -> int:
    """Queue the patient's text for every alert that waited too long; returns how many."""
    if settings.patient_followup_minutes <= 0:
        return 0
    moment = now or clock.now()
    due_before = iso(moment - timedelta(minutes=settings.patient_followup_minutes))
    marks = ", ".join("?" for _ in RED_FLAG_TIERS)
    names = [notifier for notifier, _ in NOTIFIERS.values()]
    sent_before = (
        f"(select escalation_id from outbox where notifier in ({', '.join('?' for _ in names)}))"
    )
    waiting = store.db.execute(
        f"select id, sender from escalations where status = 'open' and tier in ({marks}) "
        f"and created_at <= ? and id not in {sent_before}",
        [*RED_FLAG_TIERS, due_before, *names],
    ).fetchall()
    queued = 0
    for escalation_id, sender in waiting:
        found = [kind for prefix, kind in NOTIFIERS.items() if (sender or "").startswith(prefix)]
        if not found:
            continue  # a channel that cannot reach the patient (REST), or redacted
        notifier, action = found[0]
        with store.transaction() as conn:
            again = conn.execute(
                "select 1 from escalations where id = ? and status = 'open' and id not in "
                f"{sent_before}",
                [escalation_id, *names],
            ).fetchone()
            if not again:
                continue
            conn.execute(
                "insert into outbox (escalation_id, notifier, reason, created_at, attempts, "
                "next_attempt_at) values (?, ?, ?, ?, 0, ?)",
                [escalation_id, notifier, "patient follow-up", iso(moment), iso(moment)],
            )
            audit.write(conn, "worker", action, escalation_id)
        queued += 1
        logger.warning(
            "Escalation %s not acknowledged: the patient is told (%s)", escalation_id, notifier
        )
    return queued
