"""Outbound SMS through Twilio's client, for messages the clinic starts.

The API base URL is a setting (TWILIO_API_BASE) so tests point it at a local
fake server. Used by the on-call SMS notifier.
"""

from __future__ import annotations

import os
from typing import Optional


class OutboundError(Exception):
    """The message was not sent."""


def send_sms(to: str, body: str, proactive: bool = True, client: Optional[object] = None) -> str:
    """Send `body` to `to`; returns the message SID."""
    sid = os.environ.get("TWILIO_ACCOUNT_SID")
    token = os.environ.get("TWILIO_AUTH_TOKEN")
    sender = os.environ.get("TWILIO_FROM_NUMBER")
    if client is None and not (sid and token and sender):
        raise OutboundError(
            "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER are needed"
        )
    try:
        from twilio.base.exceptions import TwilioException
        from twilio.rest import Client

        twilio = client or Client(sid, token)
        base = os.environ.get("TWILIO_API_BASE")
        if base:
            twilio.api.base_url = base.rstrip("/")  # type: ignore[attr-defined]
        message = twilio.messages.create(to=to, from_=sender, body=body)  # type: ignore[attr-defined]
    except (TwilioException, OSError) as error:
        raise OutboundError(str(error)) from error
    return str(message.sid)
