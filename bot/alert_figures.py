"""Figures the clinic reads on the queue: how fast alerts are acknowledged, how many wait
now, how many had to go up the escalation chain; for every alert, or for one source's
(the check-ins page reads the check-ins' own)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional

from bot.store import Store


@dataclass(frozen=True)
class Figures:
    waiting_now: int
    acknowledged: int
    median_minutes: Optional[float]
    p90_minutes: Optional[float]
    went_up_the_chain: int


def percentile(values: List[float], share: float) -> Optional[float]:
    """The nearest-rank percentile (`share` 0.5 is the median of an odd count)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures(store: Store, source: Optional[str] = None) -> Figures:
    """The figures over every alert, or over those a `source` raised ("checkins": the
    alerts the check-ins raised, `bot.checkins.calllist.SOURCE`)."""
    db = store.db
    where, args = ("source = ?", [source]) if source else ("1 = 1", [])
    waiting = db.execute(
        f"select count(*) from escalations where status = 'open' and {where}", args
    ).fetchone()[0]
    pairs = db.execute(
        "select created_at, acknowledged_at from escalations where acknowledged_at is not null "
        f"and {where}",
        args,
    ).fetchall()
    minutes = [
        (datetime.fromisoformat(acked) - datetime.fromisoformat(created)).total_seconds() / 60
        for created, acked in pairs
    ]
    climbed = db.execute(
        "select count(*) from escalation_chain where step >= 1"
        + (" and escalation_id in (select id from escalations where source = ?)" if source else ""),
        args,
    ).fetchone()[0]
    return Figures(
        waiting_now=int(waiting),
        acknowledged=len(minutes),
        median_minutes=percentile(minutes, 0.5),
        p90_minutes=percentile(minutes, 0.9),
        went_up_the_chain=int(climbed),
    )
