"""The end-to-end tests' HTTP client, logged servers and the settings they run with."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from typing import IO, Any, Dict, List, Optional

from bot.servers import Servers


class Client:
    """Talks to the REST channel as any HTTP client would."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"

    def send(self, sender: str, message: Any) -> List[Dict[str, Any]]:
        body = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as reply:
            assert reply.status == 200
            return json.loads(reply.read())

    def text(self, sender: str, message: Any) -> str:
        return "\n".join(m.get("text") or "" for m in self.send(sender, message))


class LoggedServers(Servers):
    """Servers whose every start writes to the session's log, restarts by tests included,
    so the log checks read everything the servers printed."""

    out: Optional[IO[str]] = None

    def _logged(self, popen: Dict[str, Any]) -> Dict[str, Any]:
        if self.out is None:
            return popen
        return {"stdout": self.out, "stderr": subprocess.STDOUT, **popen}

    def start_actions(self, **popen: Any) -> None:
        super().start_actions(**self._logged(popen))

    def start_worker(self, **popen: Any) -> None:
        super().start_worker(**self._logged(popen))

    def start_rasa(self, **popen: Any) -> None:
        super().start_rasa(**self._logged(popen))


WEBHOOK_SECRET = "e2e-webhook-secret"
STAFF_TOKEN = "e2e-staff-token"
TWILIO_ACCOUNT_SID = "AC" + "e2e0" * 8
TWILIO_AUTH_TOKEN = "e2e-twilio-auth-token"
TWILIO_FROM_NUMBER = "+15555550100"
# the public address Twilio signs (the servers sit behind a proxy in production)
TWILIO_WEBHOOK_URL = "https://clinic.example.test/webhooks/sms/webhook"
SMS_REPLY_TIMEOUT_SECONDS = 5
