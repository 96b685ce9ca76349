"""Polling for something another process does (a webhook arriving, a row appearing)."""

from __future__ import annotations

import time
from typing import Any, Callable


def wait_until(check: Callable[[], Any], seconds: float = 30, every: float = 0.2) -> Any:
    """Call `check` until it returns something truthy; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {seconds:.0f} s")
