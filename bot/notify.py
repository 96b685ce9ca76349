"""Clinic notifiers: a signed webhook, email over SMTP, SMS to the on-call number.

Each notifier sends one escalation and raises on failure; the worker retries.
Notifications carry what a nurse needs to act (tier, symptoms, channel,
callback number, a link to the staff queue), not the patient's message: the
message stays behind the staff page's authentication.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
import urllib.request
from email.message import EmailMessage
from typing import Any, Dict, List, Optional, Protocol

from bot.settings import Settings

SIGNATURE_HEADER = "X-Clinic-Signature"
TIMESTAMP_HEADER = "X-Clinic-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class NotifyError(Exception):
    """A notification could not be delivered (the worker retries it)."""


class NotSent(Exception):
    """A notification that will not be sent, for good (recorded with why, not retried)."""


class Notifier(Protocol):
    def send(self, notification_id: int, escalation: Dict[str, Any]) -> None: ...


def summary(escalation: Dict[str, Any], settings: Settings) -> Dict[str, Any]:
    """The minimal facts a clinician needs, with no message text."""
    return {
        "escalation_id": escalation["id"],
        "created_at": escalation["created_at"],
        "tier": escalation["tier"],
        "symptoms": escalation["symptoms"],
        "channel": escalation["channel"],
        "callback_number": escalation.get("callback_number"),
        "status": escalation["status"],
        "staff_url": f"{settings.public_staff_url.rstrip('/')}/escalations/{escalation['id']}",
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", as the receiver must recompute it."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """For receivers (and tests): is this signature ours?"""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookNotifier:
    """POSTs the summary as JSON, signed with the shared secret."""

    def __init__(self, settings: Settings, timeout: float = 10.0) -> None:
        if not settings.webhook_url or not settings.webhook_secret:
            raise ValueError("NOTIFY_WEBHOOK_URL and NOTIFY_WEBHOOK_SECRET are both needed")
        self.url = settings.webhook_url
        self.secret = settings.webhook_secret
        self.settings = settings
        self.timeout = timeout

    def send(self, notification_id: int, escalation: Dict[str, Any]) -> None:
        body = json.dumps(summary(escalation, self.settings), sort_keys=True).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            self.url,
            body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self.secret, timestamp, body),
                IDEMPOTENCY_HEADER: f"notification-{notification_id}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                if not 200 <= reply.status < 300:
                    raise NotifyError(f"webhook answered {reply.status}")
        except OSError as error:  # URLError, HTTPError, timeouts
            raise NotifyError(f"webhook: {error}") from error


class EmailNotifier:
    """Sends a short email to the clinic's address over SMTP."""

    def __init__(self, settings: Settings, timeout: float = 15.0) -> None:
        if not settings.email_to:
            raise ValueError("NOTIFY_EMAIL_TO is needed")
        self.settings = settings
        self.timeout = timeout

    def send(self, notification_id: int, escalation: Dict[str, Any]) -> None:
        s = self.settings
        facts = summary(escalation, s)
        message = EmailMessage()
        message["Subject"] = (
            f"[{facts['tier'].upper()}] Patient warning sign, escalation #{facts['escalation_id']}"
        )
        message["From"] = s.smtp_from
        message["To"] = s.email_to
        message["Message-ID"] = f"<escalation-{facts['escalation_id']}-{notification_id}@assistant>"
        message.set_content(
            f"A patient reported a warning sign ({facts['tier']}).\n"
            f"Symptoms: {', '.join(facts['symptoms'])}\n"
            f"Channel: {facts['channel']}\n"
            f"Callback number: {facts['callback_number'] or 'not given yet'}\n"
            f"Reported at (UTC): {facts['created_at']}\n"
            f"Open the staff queue to see and acknowledge it: {facts['staff_url']}\n"
        )
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user and s.smtp_password:
                    smtp.login(s.smtp_user, s.smtp_password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise NotifyError(f"email: {error}") from error


class SmsNotifier:
    """Texts the on-call number through the outbound SMS sender."""

    def __init__(self, settings: Settings) -> None:
        if not settings.oncall_sms_to:
            raise ValueError("NOTIFY_SMS_TO is needed")
        self.settings = settings

    def send(self, notification_id: int, escalation: Dict[str, Any]) -> None:
        from bot.channels.outbound import OutboundError, send_sms

        facts = summary(escalation, self.settings)
        body = (
            f"{facts['tier'].upper()} warning sign, escalation #{facts['escalation_id']}: "
            f"{', '.join(facts['symptoms'])}. Callback: {facts['callback_number'] or 'not given'}. "
            f"{facts['staff_url']}"
        )
        try:
            send_sms(self.settings.oncall_sms_to or "", body, proactive=False)
        except OutboundError as error:
            raise NotifyError(f"sms: {error}") from error


class PatientSmsNotifier:
    """Texts the patient (SMS conversations only) that the clinic is still trying to reach
    them (`bot.patient_followup`). A number that opted out gets nothing, and that is final."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, notification_id: int, escalation: Dict[str, Any]) -> None:
        from bot.channels.outbound import OptedOut, OutboundError, send_sms
        from bot.escalations import phone_from_sender
        from bot.replies import patient_still_trying

        phone = phone_from_sender(escalation.get("sender") or "")
        if not phone:
            return  # redacted meanwhile, or not an SMS conversation: nobody to text
        try:
            send_sms(phone, patient_still_trying(), proactive=True)
        except OptedOut:
            return
        except OutboundError as error:
            raise NotifyError(f"patient sms: {error}") from error


class PatientWebNotifier:
    """Shows the patient, in the website chat if it is open, that the clinic is still trying
    to reach them (`bot.patient_followup`, through `bot.channels.web_push`). A chat that is
    not open gets nothing, and that is final; a conversation that is not a website chat, or
    a push the Rasa server refuses or cannot be reached for, is an error (retried)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, notification_id: int, escalation: Dict[str, Any]) -> None:
        from bot.channels.web_push import PushError, push

        conversation = escalation.get("sender") or ""
        if not conversation:
            raise NotSent("the conversation is no longer kept")
        try:
            push(self.settings, conversation, "patient_still_trying")
        except PushError as error:
            if error.not_open:
                raise NotSent("the chat was not open") from error
            raise NotifyError(f"patient web: {error}") from error


def build(name: str, settings: Settings) -> Notifier:
    """The notifier called `name` ("webhook", "email", "sms", "patient_sms" or
    "patient_web")."""
    kinds = {
        "webhook": WebhookNotifier,
        "email": EmailNotifier,
        "sms": SmsNotifier,
        "patient_sms": PatientSmsNotifier,
        "patient_web": PatientWebNotifier,
    }
    return kinds[name](settings)


def backoff(attempts: int, base: float, ceiling: float) -> float:
    """Seconds to wait after `attempts` failures: doubling, capped, never giving up."""
    return float(min(ceiling, base * (2 ** max(0, attempts - 1))))


def deliver_due(
    store: Any, settings: Settings, now: Optional[Any] = None, limit: int = 20
) -> Dict[str, int]:
    """Send every due notification once (up to `limit` a cycle); failures are rescheduled
    with backoff. Each is claimed first (`Store.claim_notifications`, a lease), one at a
    time, so several workers running this at once never send one twice."""
    sent = failed = not_sent = 0
    built: Dict[str, Notifier] = {}
    tried: List[int] = []
    while len(tried) < limit:
        claimed = store.claim_notifications(now=now, limit=1, exclude=tried)
        if not claimed:
            break
        row = claimed[0]
        tried.append(row["id"])
        escalation = store.get(row["escalation_id"])
        try:
            notifier = built.get(row["notifier"]) or build(row["notifier"], settings)
            built[row["notifier"]] = notifier
            notifier.send(row["id"], escalation)
        except NotSent as reason:
            store.mark_attempt(row["id"], ok=True, error=f"not sent: {reason}", now=now)
            not_sent += 1
        except (NotifyError, ValueError) as error:
            attempts = row["attempts"] + 1
            delay = backoff(attempts, settings.retry_base_seconds, settings.retry_max_seconds)
            store.mark_attempt(row["id"], ok=False, error=str(error), retry_in=delay, now=now)
            failed += 1
        else:
            store.mark_attempt(row["id"], ok=True, now=now)
            sent += 1
    return {"sent": sent, "failed": failed, "not_sent": not_sent}
