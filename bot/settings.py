"""Settings from environment variables, with safe embedded defaults.

Every value a clinic changes lives here, read once and cached; no other module reads
the environment for a setting (bot/servers.py only passes it on to the servers). Tests call
`get_settings.cache_clear()` after changing the environment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional, Tuple

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
    web_allowed_origins: Tuple[str, ...]
    staff_token: Optional[str]
    staff_port: int
    public_staff_url: str
    webhook_url: Optional[str]
    webhook_secret: Optional[str]
    email_to: Optional[str]
    smtp_host: str
    smtp_port: int
    smtp_from: str
    smtp_user: Optional[str]
    smtp_password: Optional[str]
    smtp_starttls: bool
    oncall_sms_to: Optional[str]
    retry_base_seconds: float
    retry_max_seconds: float
    worker_poll_seconds: float
    reconcile_grace_seconds: float
    twilio_account_sid: Optional[str] = None
    twilio_auth_token: Optional[str] = None
    twilio_from_number: Optional[str] = None
    twilio_api_base: Optional[str] = None
    twilio_webhook_url: Optional[str] = None
    sms_reply_timeout_seconds: float = 10.0
    sms_skip_signature_check: bool = False
    retention_days: int = 30
    rasa_interface: str = "127.0.0.1"
    staff_interface: str = "127.0.0.1"
    action_server_secret: Optional[str] = None
    action_server_interface: str = "127.0.0.1"
    tracker_store_busy_seconds: float = 10.0
    tracker_store_save_attempts: int = 3
    web_session_idle_minutes: float = 30.0
    staff_idle_minutes: float = 15.0
    staff_lockout_attempts: int = 5
    staff_lockout_minutes: float = 15.0
    escalation_ack_minutes: float = 15.0
    escalation_chain: Tuple[str, ...] = ()
    patient_followup_minutes: float = 30.0
    clinic_open_hours: str = ""
    clinic_timezone: str = "America/Chicago"
    staff_trusted_proxies: Tuple[str, ...] = ()
    checkins_schedule: Optional[Path] = None
    web_push_url: Optional[str] = None
    web_push_secret: Optional[str] = None
    # postgresql://user:password@host:port/database: the project's tables (and, through
    # endpoints.yml, Rasa's tracker store) on PostgreSQL; unset: SQLite at assistant_db
    database_url: Optional[str] = None
    database_pool_size: int = 5
    database_max_overflow: int = 5
    # locks of several Rasa servers and the website chat's message queue (bot/endpoints.py)
    redis_url: Optional[str] = None

    @property
    def notifiers(self) -> Tuple[str, ...]:
        """The clinic notifiers that are configured, in a fixed order."""
        chosen = []
        if self.webhook_url:
            chosen.append("webhook")
        if self.email_to:
            chosen.append("email")
        if self.oncall_sms_to:
            chosen.append("sms")
        return tuple(chosen)

    def response_values(self) -> Dict[str, str]:
        """Values for the `{placeholders}` used in the domain's responses."""
        return {
            "clinic_name": self.clinic_name,
            "clinic_phone": self.clinic_phone,
            "clinic_hours": self.clinic_hours,
            "after_hours_phone": self.after_hours_phone,
            "fever_threshold": self.fever_threshold,
        }


def _origins(raw: str) -> Tuple[str, ...]:
    """Origins (`https://clinic.example`) from a comma- or space-separated list.

    "*" and "null" are dropped: the website chat never accepts any origin at all.
    """
    found = (o.strip().rstrip("/").lower() for o in re.split(r"[,\s]+", raw))
    return tuple(o for o in found if o and o not in ("*", "null"))


def _database_url(raw: str) -> Optional[str]:
    """DATABASE_URL: empty means SQLite; otherwise a PostgreSQL URL (postgresql://, or
    postgres:// as some hosts write it, or with the +psycopg2 driver named)."""
    url = raw.strip()
    if not url:
        return None
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("postgresql", "postgres", "postgresql+psycopg2"):
        raise ValueError("DATABASE_URL must be a postgresql://user:password@host:port/db URL")
    return f"postgresql://{rest}"


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings from the environment (once; cached)."""
    db = Path(_env("ASSISTANT_DB", str(PROJECT_ROOT / "var" / "assistant.db")))
    staff_port = int(_env("STAFF_PORT", "5056"))
    return Settings(
        clinic_name=_env("CLINIC_NAME", "Riverbend Spine Clinic"),
        clinic_phone=_env("CLINIC_PHONE", "(555) 555-0100"),
        clinic_hours=_env("CLINIC_HOURS", "Monday to Friday, 8 am to 5 pm"),
        after_hours_phone=_env("AFTER_HOURS_PHONE", "(555) 555-0199"),
        fever_threshold=_env("FEVER_THRESHOLD", "101 F"),
        assistant_db=db.expanduser().resolve(),
        rest_token=os.environ.get("REST_CHANNEL_TOKEN") or None,
        web_allowed_origins=_origins(os.environ.get("WEB_ALLOWED_ORIGINS", "")),
        staff_token=os.environ.get("STAFF_TOKEN") or None,
        staff_port=staff_port,
        # the staff page's address in notifications: follows STAFF_PORT unless told
        public_staff_url=_env("PUBLIC_STAFF_URL", f"http://127.0.0.1:{staff_port}/"),
        webhook_url=os.environ.get("NOTIFY_WEBHOOK_URL") or None,
        webhook_secret=os.environ.get("NOTIFY_WEBHOOK_SECRET") or None,
        email_to=os.environ.get("NOTIFY_EMAIL_TO") or None,
        smtp_host=_env("SMTP_HOST", "127.0.0.1"),
        smtp_port=int(_env("SMTP_PORT", "25")),
        smtp_from=_env("SMTP_FROM", "assistant@localhost"),
        smtp_user=os.environ.get("SMTP_USER") or None,
        smtp_password=os.environ.get("SMTP_PASSWORD") or None,
        smtp_starttls=_env("SMTP_STARTTLS", "false").lower() in ("1", "true", "yes"),
        oncall_sms_to=os.environ.get("NOTIFY_SMS_TO") or None,
        retry_base_seconds=float(_env("NOTIFY_RETRY_BASE_SECONDS", "5")),
        retry_max_seconds=float(_env("NOTIFY_RETRY_MAX_SECONDS", "300")),
        worker_poll_seconds=float(_env("WORKER_POLL_SECONDS", "2")),
        reconcile_grace_seconds=float(_env("RECONCILE_GRACE_SECONDS", "30")),
        twilio_account_sid=os.environ.get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=os.environ.get("TWILIO_AUTH_TOKEN") or None,
        twilio_from_number=os.environ.get("TWILIO_FROM_NUMBER") or None,
        twilio_api_base=os.environ.get("TWILIO_API_BASE") or None,
        twilio_webhook_url=os.environ.get("TWILIO_WEBHOOK_URL") or None,
        sms_reply_timeout_seconds=float(_env("SMS_REPLY_TIMEOUT_SECONDS", "10")),
        sms_skip_signature_check=_env("SMS_SKIP_SIGNATURE_CHECK", "0").lower()
        in ("1", "true", "yes"),
        retention_days=int(_env("RETENTION_DAYS", "30")),
        rasa_interface=_env("RASA_INTERFACE", "127.0.0.1"),
        staff_interface=_env("STAFF_INTERFACE", "127.0.0.1"),
        action_server_secret=os.environ.get("ACTION_SERVER_SECRET") or None,
        action_server_interface=_env("ACTION_SERVER_INTERFACE", "127.0.0.1"),
        tracker_store_busy_seconds=float(_env("TRACKER_STORE_BUSY_SECONDS", "10")),
        tracker_store_save_attempts=int(_env("TRACKER_STORE_SAVE_ATTEMPTS", "3")),
        web_session_idle_minutes=float(_env("WEB_SESSION_IDLE_MINUTES", "30")),
        staff_idle_minutes=float(_env("STAFF_IDLE_MINUTES", "15")),
        staff_lockout_attempts=int(_env("STAFF_LOCKOUT_ATTEMPTS", "5")),
        staff_lockout_minutes=float(_env("STAFF_LOCKOUT_MINUTES", "15")),
        escalation_ack_minutes=float(_env("ESCALATION_ACK_MINUTES", "15")),
        patient_followup_minutes=float(_env("PATIENT_FOLLOWUP_MINUTES", "30")),
        clinic_open_hours=_env("CLINIC_OPEN_HOURS", ""),
        clinic_timezone=_env("CLINIC_TIMEZONE", "America/Chicago"),
        staff_trusted_proxies=tuple(
            a for a in re.split(r"[,\s]+", os.environ.get("STAFF_TRUSTED_PROXIES", "")) if a
        ),
        escalation_chain=tuple(
            n for n in re.split(r"[,\s]+", os.environ.get("ESCALATION_CHAIN", "").lower()) if n
        ),
        web_push_url=os.environ.get("WEB_PUSH_URL") or None,
        web_push_secret=os.environ.get("WEB_PUSH_SECRET") or None,
        checkins_schedule=Path(os.environ["CHECKINS_SCHEDULE"]).expanduser()
        if os.environ.get("CHECKINS_SCHEDULE")
        else None,
        database_url=_database_url(os.environ.get("DATABASE_URL", "")),
        database_pool_size=int(_env("DATABASE_POOL_SIZE", "5")),
        database_max_overflow=int(_env("DATABASE_MAX_OVERFLOW", "5")),
        redis_url=os.environ.get("REDIS_URL", "").strip() or None,
    )
