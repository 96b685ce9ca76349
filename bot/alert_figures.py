"""Figures the clinic reads on the queue: how fast alerts are acknowledged, how many wait
now, how many had to go up the escalation chain."""

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


def figures(store: Store) -> Figures:
    db = store.db
    waiting = db.execute("select count(*) from escalations where status = 'open'").fetchone()[0]
    pairs = db.execute(
        "select created_at, acknowledged_at from escalations where acknowledged_at is not null"
    ).fetchall()
    minutes = [
        (datetime.fromisoformat(acked) - datetime.fromisoformat(created)).total_seconds() / 60
        for created, acked in pairs
    ]
    climbed = db.execute("select count(*) from escalation_chain where step >= 1").fetchone()[0]
    return Figures(
        waiting_now=int(waiting),
        acknowledged=len(minutes),
        median_minutes=percentile(minutes, 0.5),
        p90_minutes=percentile(minutes, 0.9),
        went_up_the_chain=int(climbed),
    )
