"""The end-to-end tests' HTTP client, logged servers and the settings they run with."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path
from typing import IO, Any, Dict, List, Optional

from bot.servers import Servers, server_env
from tests.support.loopback import free_port


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


def e2e_env(
    db: Path,
    action_port: int,
    webhook_url: str,
    twilio_url: str,
    extra: Optional[Dict[str, str]] = None,
) -> Dict[str, str]:
    """The servers' environment in the end-to-end tests: their own SQLite file (or the
    DATABASE_URL in `extra`: tests/e2e/conftest.py's `servers_database`), the local webhook
    receiver and fake Twilio API, a fast worker, signed SMS webhooks."""
    return server_env(
        action_port,
        {
            "ASSISTANT_DB": str(db),
            "NOTIFY_WEBHOOK_URL": webhook_url,
            "NOTIFY_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STAFF_TOKEN": STAFF_TOKEN,
            "STAFF_PORT": str(free_port()),
            "WORKER_POLL_SECONDS": "0.3",
            "NOTIFY_RETRY_BASE_SECONDS": "0.5",
            "NOTIFY_RETRY_MAX_SECONDS": "1",
            "RECONCILE_GRACE_SECONDS": "3",
            "TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": TWILIO_FROM_NUMBER,
            "TWILIO_WEBHOOK_URL": TWILIO_WEBHOOK_URL,
            "TWILIO_API_BASE": twilio_url,
            "SMS_REPLY_TIMEOUT_SECONDS": str(SMS_REPLY_TIMEOUT_SECONDS),
            "SMS_SKIP_SIGNATURE_CHECK": "0",
            **(extra or {}),
        },
    )
