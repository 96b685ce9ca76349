"""Outbound SMS through Twilio's client: messages the clinic starts, and late replies.

Used by the on-call SMS notifier, by the SMS channel for answers that came
after Twilio's webhook window, and later for check-ins. Every send:
- refuses a number that opted out (STOP) and has not opted back in;
- is normalised to GSM-7 and cut to Twilio's 1,600 characters a message;
- goes to the API base URL in TWILIO_API_BASE when set (tests use a local
  fake server), else to Twilio.

Settings: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER (the
clinic's number; a reply is sent from the number the patient texted).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, List, Optional, Sequence, Tuple

from bot.channels.sms_format import e164, mask, pack
from bot.channels.sms_store import get_sms_store
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 20.0


class OutboundError(Exception):
    """The message was not sent."""


class OptedOut(OutboundError):
    """The number opted out of texts (STOP); nothing was sent."""


def configured(settings: Optional[Settings] = None) -> bool:
    """Whether the outbound sender has what it needs to send."""
    s = settings or get_settings()
    return bool(s.twilio_account_sid and s.twilio_auth_token and s.twilio_from_number)


def _prepare(
    to: str, texts: Sequence[str], sender: Optional[str], client: Optional[object]
) -> Tuple[str, str, List[str], Settings]:
    """Check the number (valid, not opted out) and the settings; the texts to send."""
    settings = get_settings()
    number = e164(to)
    if not number:
        raise OutboundError("not a phone number")
    if get_sms_store().is_opted_out(number):
        raise OptedOut(f"{mask(number)} opted out of texts")
    origin = sender or settings.twilio_from_number
    if client is None and not configured(settings):
        raise OutboundError(
            "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER are needed"
        )
    if not origin:
        raise OutboundError("TWILIO_FROM_NUMBER is needed")
    return number, origin, pack(texts), settings


def _client(settings: Settings, http_client: Any = None) -> Any:
    from twilio.rest import Client

    # Twilio's clients log each request and response at INFO (URLs and headers, no
    # message text or numbers); keep the servers' logs to our own lines.
    logging.getLogger("twilio").setLevel(logging.WARNING)
    twilio = Client(
        settings.twilio_account_sid, settings.twilio_auth_token, http_client=http_client
    )
    if settings.twilio_api_base:
        twilio.api.base_url = settings.twilio_api_base.rstrip("/")
    return twilio


def send_sms(
    to: str,
    body: str,
    proactive: bool = True,
    client: Optional[object] = None,
    sender: Optional[str] = None,
) -> List[str]:
    """Send `body` to `to` (blocking); returns the message SIDs (more than one only for a
    body over 1,600 characters). Raises OptedOut for an opted-out number."""
    from twilio.base.exceptions import TwilioException
    from twilio.http.http_client import TwilioHttpClient

    number, origin, texts, settings = _prepare(to, [body], sender, client)
    twilio: Any = client or _client(settings, TwilioHttpClient(timeout=TIMEOUT_SECONDS))
    sids = []
    try:
        for text in texts:
            message = twilio.messages.create(to=number, from_=origin, body=text)
            sids.append(str(message.sid))
    except (TwilioException, OSError) as error:
        raise OutboundError(str(error)) from error
    kind = "proactive" if proactive else "notification"
    logger.info("sent %d %s text(s) to %s", len(sids), kind, mask(number))
    return sids


async def send_sms_async(
    to: str, texts: Sequence[str], sender: Optional[str] = None, client: Optional[object] = None
) -> List[str]:
    """Send `texts` to `to` without blocking the event loop (the Rasa server's);
    returns the message SIDs. Raises OptedOut for an opted-out number."""
    from twilio.base.exceptions import TwilioException
    from twilio.http.async_http_client import AsyncTwilioHttpClient

    number, origin, ready, settings = _prepare(to, texts, sender, client)
    http = None if client else AsyncTwilioHttpClient()
    twilio: Any = client or _client(settings, http)
    sids = []
    try:
        for text in ready:
            message = await asyncio.wait_for(
                twilio.messages.create_async(to=number, from_=origin, body=text), TIMEOUT_SECONDS
            )
            sids.append(str(message.sid))
    except (TwilioException, OSError, asyncio.TimeoutError) as error:
        raise OutboundError(str(error) or type(error).__name__) from error
    finally:
        if http is not None:
            await http.close()
    logger.info("sent %d late reply text(s) to %s", len(sids), mask(number))
    return sids
