"""When the clinic is open, for routing alerts: `CLINIC_OPEN_HOURS` in `CLINIC_TIMEZONE`.

`CLINIC_OPEN_HOURS` is a comma-separated list of day ranges and times, e.g.
`mon-fri 08:00-17:00, sat 09:00-12:00`. Empty: the assistant does not know the hours and
routes as if the clinic were always open. A value it cannot read counts as closed (alerts
then also go to the on-call number), and is logged.
`CLINIC_HOURS` stays the wording patients read.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, time
from typing import List, Optional, Set, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.settings import Settings

logger = logging.getLogger(__name__)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$"
)

Span = Tuple[Set[int], time, time]


def parse(text: str) -> List[Span]:
    """The spans of `text`; ValueError when a part cannot be read."""
    spans = []
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        found = _SPAN.match(part)
        if not found or found["first"] not in DAYS or (found["last"] or "mon") not in DAYS:
            raise ValueError(f"cannot read clinic hours {part!r} (say 'mon-fri 08:00-17:00')")
        first = DAYS.index(found["first"])
        last = DAYS.index(found["last"] or found["first"])
        days = {d % 7 for d in range(first, last + 1 if last >= first else last + 8)}
        start, end = (
            time.fromisoformat(found["start"].zfill(5)),
            time.fromisoformat(found["end"].zfill(5)),
        )
        spans.append((days, start, end))
    return spans


def is_open(settings: Settings, moment: datetime) -> Optional[bool]:
    """Whether the clinic is open at `moment`; None when the hours are not configured."""
    if not settings.clinic_open_hours:
        return None
    try:
        spans = parse(settings.clinic_open_hours)
        local = moment.astimezone(ZoneInfo(settings.clinic_timezone))
    except (ValueError, ZoneInfoNotFoundError) as error:
        logger.warning("CLINIC_OPEN_HOURS or CLINIC_TIMEZONE unreadable (%s): closed", error)
        return False
    now = local.time()
    return any(local.weekday() in days and start <= now < end for days, start, end in spans)
