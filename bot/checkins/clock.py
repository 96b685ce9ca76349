"""The one time seam of the check-ins: a clock is a function that returns an aware UTC now.

Everything that decides by time (what is due, the sending window, the limits, reminders,
missed check-ins, reply times) takes a `clock`; the default is the system's. Tests pass
one they move by hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from bot.store import utcnow

Clock = Callable[[], datetime]

system_clock: Clock = utcnow
