"""Settings from environment variables, with safe embedded defaults.

Every value a clinic changes lives here, read once and cached. Tests call
`get_settings.cache_clear()` after changing the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """The clinic's details and where the assistant keeps its data."""

    clinic_name: str
    clinic_phone: str
    clinic_hours: str
    after_hours_phone: str
    fever_threshold: str
    assistant_db: Path
    rest_token: Optional[str]

    def response_values(self) -> Dict[str, str]:
        """Values for the `{placeholders}` used in the domain's responses."""
        return {
            "clinic_name": self.clinic_name,
            "clinic_phone": self.clinic_phone,
            "clinic_hours": self.clinic_hours,
            "after_hours_phone": self.after_hours_phone,
            "fever_threshold": self.fever_threshold,
        }


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings from the environment (once; cached)."""
    db = Path(_env("ASSISTANT_DB", str(PROJECT_ROOT / "var" / "assistant.db")))
    return Settings(
        clinic_name=_env("CLINIC_NAME", "Riverbend Spine Clinic"),
        clinic_phone=_env("CLINIC_PHONE", "(555) 555-0100"),
        clinic_hours=_env("CLINIC_HOURS", "Monday to Friday, 8 am to 5 pm"),
        after_hours_phone=_env("AFTER_HOURS_PHONE", "(555) 555-0199"),
        fever_threshold=_env("FEVER_THRESHOLD", "101 F"),
        assistant_db=db.expanduser().resolve(),
        rest_token=os.environ.get("REST_CHANNEL_TOKEN") or None,
    )
