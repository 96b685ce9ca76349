"""No alert left waiting: a warning-sign alert nobody acknowledges climbs a notifier chain.

With `ESCALATION_CHAIN` set (say `webhook,sms,email`), a new alert is sent to the chain's
first notifier (and to any configured notifier outside the chain); outside the clinic's
open hours a warning sign also goes to the on-call SMS number at once. Each time an open
emergency or urgent alert has waited `ESCALATION_ACK_MINUTES` since its last step without
an acknowledgement, the worker queues it for the next notifier in the chain, until the
chain ends or someone acknowledges. Each step is audited (actor "worker"). Time comes
from `bot.clock`, or the `now` a test passes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Optional, Tuple

from bot import audit, clinic_hours, clock
from bot.settings import Settings
from bot.store import Store, iso
from bot.tiers import RED_FLAG_TIERS

logger = logging.getLogger(__name__)


def chain(settings: Settings) -> Tuple[str, ...]:
    """The configured chain, keeping only the notifiers that are configured."""
    return tuple(name for name in settings.escalation_chain if name in settings.notifiers)


def first_notifiers(
    settings: Settings, tier: Optional[str] = None, now: Optional[datetime] = None
) -> Tuple[str, ...]:
    """Who hears of a new alert: without a chain every notifier, with one its first step
    and the notifiers outside it; a warning sign outside the clinic's open hours
    (`bot.clinic_hours`) also goes to the on-call number at once."""
    steps = chain(settings)
    chosen = [n for n in settings.notifiers if not steps or n == steps[0] or n not in steps]
    after_hours = clinic_hours.is_open(settings, now or clock.now()) is False
    if tier in RED_FLAG_TIERS and after_hours and "sms" in settings.notifiers:
        chosen += [] if "sms" in chosen else ["sms"]
    return tuple(chosen)


def climb(store: Store, settings: Settings, now: Optional[datetime] = None) -> int:
    """Queue the next step for every alert that waited too long; returns how many."""
    steps = chain(settings)
    if len(steps) < 2:
        return 0
    moment = now or clock.now()
    due_before = iso(moment - timedelta(minutes=settings.escalation_ack_minutes))
    marks = ", ".join("?" for _ in RED_FLAG_TIERS)
    waiting = store.db.execute(
        "select e.id, coalesce(c.step, 0) from escalations e "
        "left join escalation_chain c on c.escalation_id = e.id "
        f"where e.status = 'open' and e.tier in ({marks}) "
        "and coalesce(c.last_sent_at, e.created_at) <= ? and coalesce(c.step, 0) < ?",
        [*RED_FLAG_TIERS, due_before, len(steps) - 1],
    ).fetchall()
    climbed = 0
    for escalation_id, step in waiting:
        notifier = steps[step + 1]
        with store.transaction() as conn:
            status = conn.execute(
                "select status from escalations where id = ?", [escalation_id]
            ).fetchone()
            if not status or status[0] != "open":
                continue  # acknowledged meanwhile
            conn.execute(
                "insert into outbox (escalation_id, notifier, reason, created_at, attempts, "
                "next_attempt_at) values (?, ?, ?, ?, 0, ?)",
                [escalation_id, notifier, "not acknowledged", iso(moment), iso(moment)],
            )
            conn.execute(
                "insert into escalation_chain (escalation_id, step, last_sent_at) values (?, ?, ?) "
                "on conflict(escalation_id) do update set step = excluded.step, "
                "last_sent_at = excluded.last_sent_at",
                [escalation_id, step + 1, iso(moment)],
            )
            audit.write(conn, "worker", "sent up the chain", escalation_id, notifier)
        climbed += 1
        logger.warning("Escalation %s not acknowledged: sent to %s", escalation_id, notifier)
    return climbed
