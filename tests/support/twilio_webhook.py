"""Twilio messaging webhooks posted to the real SMS channel, signed as Twilio signs them
(Twilio's own RequestValidator over the public TWILIO_WEBHOOK_URL), for the end-to-end tests."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Tuple

from twilio.request_validator import RequestValidator

from tests.support.servers import (
    SMS_REPLY_TIMEOUT_SECONDS,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM_NUMBER,
    TWILIO_WEBHOOK_URL,
)


class Sms:
    """Posts Twilio messaging webhooks to the SMS channel, signed as Twilio signs them."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/webhooks/sms/webhook"
        self.validator = RequestValidator(TWILIO_AUTH_TOKEN)

    def post(
        self, fields: Dict[str, str], signature: Optional[str] = "sign"
    ) -> Tuple[int, str, float]:
        """(status, body, seconds taken)."""
        if signature == "sign":
            signature = self.validator.compute_signature(TWILIO_WEBHOOK_URL, fields)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(self.url, data, headers)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                status, body = reply.status, reply.read().decode()
                assert reply.headers["Content-Type"].startswith("text/xml")
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode()
        return status, body, time.monotonic() - started

    @staticmethod
    def fields(phone: str, body: Optional[str], sid: Optional[str] = None, **extra: str) -> Dict:
        fields = {
            "AccountSid": "AC" + "e2e0" * 8,
            "MessageSid": sid or "SM" + uuid.uuid4().hex,
            "From": phone,
            "To": TWILIO_FROM_NUMBER,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
            **extra,
        }
        if body is not None:
            fields["Body"] = body
        return fields

    def texts(self, phone: str, body: Optional[str], sid: Optional[str] = None, **extra) -> List:
        """The texts a message is answered with (asserting a 200 TwiML answer in time)."""
        status, xml, seconds = self.post(self.fields(phone, body, sid, **extra))
        assert status == 200, xml
        assert seconds < SMS_REPLY_TIMEOUT_SECONDS + 3
        root = ET.fromstring(xml)
        assert root.tag == "Response"
        return [m.text or "" for m in root.findall("Message")]

    def text(self, phone: str, body: Optional[str], **extra: str) -> str:
        return "\n\n".join(self.texts(phone, body, **extra))
