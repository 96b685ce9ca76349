"""The worker: sends the notification outbox, reconciles missed escalations, sends
unacknowledged alerts up the escalation chain, sends the check-ins that are due, applies
the retention period hourly, serves the staff page. Runs beside the Rasa server and the
action server (`python -m bot worker`).

Pending notifications live in the database, so a restart loses none; each is
retried with backoff until it is delivered.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Optional

from bot import clock
from bot.checkins.sender import run_due as run_checkins
from bot.checkins.sender import warn_at_start as warn_about_checkins
from bot.escalation_chain import climb
from bot.notify import deliver_due
from bot.patient_followup import follow_up
from bot.reconcile import reconcile
from bot.retention import purge_if_due
from bot.settings import Settings
from bot.store import Store

logger = logging.getLogger(__name__)


def run_once(store: Store, settings: Settings) -> dict:
    """One cycle: record missed escalations, queue the chain's next steps and the patients'
    follow-up texts, send what is due, then (hourly) apply the retention period.
    Reconciling first means purging never meets an unchecked turn."""
    recorded = reconcile(store, settings)
    climbed = climb(store, settings)
    followed_up = follow_up(store, settings)
    delivery = deliver_due(store, settings)
    purged = purge_if_due(store, settings)
    checkins = run_checkins(store, settings)
    return {
        "reconciled": recorded,
        "climbed": climbed,
        "followed_up": followed_up,
        **delivery,
        "purged": purged,
        "checkins": checkins,
    }


def run(store: Store, settings: Settings, stop: Optional[threading.Event] = None) -> None:
    """Cycle until `stop` is set (forever when it is None)."""
    from bot import staff

    if not settings.notifiers:
        logger.warning(
            "No clinic notifier is configured (NOTIFY_WEBHOOK_URL, NOTIFY_EMAIL_TO or "
            "NOTIFY_SMS_TO): escalations are kept in the database and the staff queue only."
        )
    sms_on = settings.twilio_auth_token or settings.sms_skip_signature_check
    if sms_on and not (settings.twilio_account_sid and settings.twilio_from_number):
        logger.warning(
            "TWILIO_ACCOUNT_SID or TWILIO_FROM_NUMBER is not set: an SMS answer slower than "
            "SMS_REPLY_TIMEOUT_SECONDS (%s s) cannot be texted afterwards and is dropped.",
            settings.sms_reply_timeout_seconds,
        )
    warn_about_checkins(store, settings)
    if os.environ.get(clock.CLOCK_FILE, "").strip():
        logger.warning("%s is set: the time is read from that file (tests only)", clock.CLOCK_FILE)
    server = staff.serve(store, settings, host=settings.staff_interface)
    logger.info(
        "worker started: notifiers %s, staff page on port %s",
        ", ".join(settings.notifiers) or "none",
        settings.staff_port,
    )
    stop = stop or threading.Event()
    try:
        while not stop.is_set():
            try:
                run_once(store, settings)
            except Exception:
                logger.exception("worker cycle failed; trying again")
            stop.wait(settings.worker_poll_seconds)
    finally:
        server.shutdown()
