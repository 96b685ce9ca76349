"""An HTTP proxy that holds every POST for a while: a hung action server, for tests.

Put it on the action server's port and the real action server behind it; the
Rasa server then waits `delay` seconds for every custom action, as it would
for an action server that is overloaded or stuck.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler
from typing import Optional, Type

from tests.support.loopback import LoopbackServer, QuietHandler


class SlowProxy(LoopbackServer):
    """Forwards POSTs to `target` after `delay` seconds; GETs at once."""

    def __init__(self, port: int, target: str, delay: float) -> None:
        self.port = port
        self.target = target.rstrip("/")
        self.delay = delay
        self.held = 0

    def handler(self) -> Type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(QuietHandler):
            def _forward(self, body: Optional[bytes]) -> None:
                request = urllib.request.Request(
                    outer.target + self.path,
                    body,
                    {
                        "Content-Type": self.headers.get("Content-Type", "application/json"),
                        # the action server refuses calls without the Rasa server's secret
                        "Authorization": self.headers.get("Authorization", ""),
                    },
                    method=self.command,
                )
                try:
                    with urllib.request.urlopen(request, timeout=120) as reply:
                        status, payload = reply.status, reply.read()
                except urllib.error.HTTPError as error:
                    status, payload = error.code, error.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802
                self._forward(None)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.held += 1
                time.sleep(outer.delay)
                self._forward(body)

        return Handler
