"""Twilio's messaging webhook: the form it posts, its fields, and its signature.

Protocol only, no policy: `parse_form` keeps blank values (Twilio signs `Body=` of a
picture sent without words, and Sanic's own form parsing drops it); `Webhook` holds
the fields the SMS channel uses; `signature_valid` checks `X-Twilio-Signature` with
Twilio's RequestValidator against the public webhook URL (the server sits behind a
proxy, so the URL it sees is not the one Twilio signed); `malformed` says why a signed
form is not one Twilio sent. Twilio signs the URL and every key and value joined without
separators, so a captured webhook re-sent with its fields re-split
(`MessageSid=<sid>NumMedia0`, `NumMedia` removed) keeps a valid signature: the shape of
the MessageSid and the fields Twilio always sends are what tell such a form apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

from bot.channels.sms_format import e164

SIGNATURE_HEADER = "X-Twilio-Signature"
MESSAGE_SID = re.compile(r"(?:SM|MM)[0-9a-f]{32}")
ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
# every incoming-message webhook carries these (Body too, empty for a picture alone)
ALWAYS_SENT = ("AccountSid", "Body", "From", "MessageSid", "NumMedia", "To")
SAME_AS_MESSAGE_SID = ("SmsMessageSid", "SmsSid")


class Form(Dict[str, List[str]]):
    """Form fields, each a list of values; `getlist` as Twilio's RequestValidator expects."""

    def getlist(self, name: str) -> List[str]:
        return list(self.get(name) or [])


def parse_form(body: bytes, content_type: Optional[str]) -> Form:
    """A form-encoded webhook body, keeping blank values: Twilio signs `Body=` of a
    picture sent without words, and Sanic's own form parsing drops it."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return Form()
    try:
        return Form(parse_qs(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return Form()


@dataclass(frozen=True)
class Webhook:
    """The fields of a Twilio messaging webhook this channel uses."""

    phone: Optional[str]
    clinic_number: Optional[str]
    body: str
    message_sid: str
    num_media: int

    @classmethod
    def parse(cls, form: Mapping[str, Any]) -> Webhook:
        def field(name: str) -> str:
            value = form.get(name)
            if isinstance(value, list):
                value = value[0] if value else ""
            return value if isinstance(value, str) else ""

        try:
            media = int(field("NumMedia") or 0)
        except ValueError:
            media = 0
        return cls(
            phone=e164(field("From")),
            clinic_number=e164(field("To")),
            body=field("Body"),
            message_sid=field("MessageSid"),
            num_media=max(media, 0),
        )


def malformed(form: Mapping[str, Any]) -> Optional[str]:
    """Why a signed form is not a messaging webhook as Twilio sends it, or None.

    Each field Twilio always sends must be there once; the MessageSid must be `SM` or
    `MM` and 32 hex digits (so nothing can be glued onto it), the AccountSid `AC` and 32;
    NumMedia a number; SmsSid and SmsMessageSid, when sent, the MessageSid again."""

    def values(name: str) -> List[str]:
        value = form.get(name)
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]

    for name in ALWAYS_SENT:
        if len(values(name)) != 1:
            return f"{name} missing or repeated"
    [sid] = values("MessageSid")
    if not MESSAGE_SID.fullmatch(sid):
        return "MessageSid is not Twilio's shape"
    if not ACCOUNT_SID.fullmatch(values("AccountSid")[0]):
        return "AccountSid is not Twilio's shape"
    if not values("NumMedia")[0].isdigit() or not values("NumMedia")[0].isascii():
        return "NumMedia is not a number"
    for name in SAME_AS_MESSAGE_SID:
        if any(v != sid for v in values(name)):
            return f"{name} differs from MessageSid"
    return None


def signature_valid(
    auth_token: str,
    webhook_url: Optional[str],
    form: Mapping[str, Any],
    signature: str,
    url: str,
    query: str = "",
) -> bool:
    """Whether `signature` is Twilio's for this form posted to the public webhook URL
    (`webhook_url`, with the query string Twilio used), or to `url` without one."""
    signed_url = webhook_url or url
    if webhook_url and query and "?" not in signed_url:
        signed_url = f"{signed_url}?{query}"
    return bool(RequestValidator(auth_token).validate(signed_url, form, signature))
