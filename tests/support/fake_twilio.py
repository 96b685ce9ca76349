"""A local stand-in for Twilio's Messages API, for the outbound sender's tests.

`POST /2010-04-01/Accounts/<sid>/Messages.json` with To, From and Body (form
encoded, HTTP basic auth) is recorded and answered as Twilio answers it (201
and the message as JSON). Point TWILIO_API_BASE at `url`. `status` makes it fail.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Callable, Iterator, List, Type
from urllib.parse import parse_qs

from tests.support.loopback import LoopbackServer, QuietHandler, free_port
from tests.support.waiting import wait_until

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")


@dataclass
class SentSms:
    """One message the fake API accepted."""

    account: str
    user: str
    password: str
    to: str
    from_: str
    body: str


@dataclass
class FakeTwilio(LoopbackServer):
    """Records every message posted; answers like Twilio's Messages API."""

    port: int = field(default_factory=free_port)
    status: int = 201
    sent: List[SentSms] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def to(self, number: str) -> List[SentSms]:
        return [m for m in self.sent if m.to == number]

    def wait_for(self, check: Callable[[], object], seconds: float = 30.0) -> object:
        return wait_until(check, seconds, every=0.1)

    def handler(self) -> Type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(QuietHandler):
            def _answer(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                match = _MESSAGES.match(self.path)
                if not match:
                    self._answer(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                if outer.status >= 400:
                    self._answer(
                        outer.status,
                        {"code": 20500, "message": "fake failure", "status": outer.status},
                    )
                    return
                auth = self.headers.get("Authorization", "")
                user, _, password = (
                    base64.b64decode(auth[6:]).decode().partition(":")
                    if auth.startswith("Basic ")
                    else ("", "", "")
                )
                sms = SentSms(
                    match["account"],
                    user,
                    password,
                    form.get("To", ""),
                    form.get("From", ""),
                    form.get("Body", ""),
                )
                outer.sent.append(sms)
                self._answer(
                    201,
                    {
                        "sid": "SM" + uuid.uuid4().hex,
                        "account_sid": sms.account,
                        "to": sms.to,
                        "from": sms.from_,
                        "body": sms.body,
                        "status": "queued",
                        "num_segments": "1",
                        "num_media": "0",
                        "direction": "outbound-api",
                        "api_version": "2010-04-01",
                        "date_created": "Mon, 01 Jan 2024 00:00:00 +0000",
                        "date_updated": "Mon, 01 Jan 2024 00:00:00 +0000",
                        "date_sent": None,
                        "error_code": None,
                        "error_message": None,
                        "price": None,
                        "price_unit": "USD",
                        "uri": self.path,
                        "subresource_uris": {},
                    },
                )

        return Handler


def serve_fake_twilio(monkeypatch) -> Iterator[FakeTwilio]:
    """A started FakeTwilio with the outbound sender's settings pointing at it (the body of
    the `fake_twilio` and `twilio` fixtures); stopped when the generator closes."""
    from bot.settings import get_settings
    from tests.support.sms import ACCOUNT_SID, AUTH_TOKEN, CLINIC_NUMBER

    api = FakeTwilio().start()
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", CLINIC_NUMBER)
    monkeypatch.setenv("TWILIO_API_BASE", api.url)
    get_settings.cache_clear()
    yield api
    api.stop()
