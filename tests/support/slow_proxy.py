"""An HTTP proxy that holds every POST for a while: a hung action server, for tests.

Put it on the action server's port and the real action server behind it; the
Rasa server then waits `delay` seconds for every custom action, as it would
for an action server that is overloaded or stuck.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional


class SlowProxy:
    """Forwards POSTs to `target` after `delay` seconds; GETs at once."""

    def __init__(self, port: int, target: str, delay: float) -> None:
        self.port = port
        self.target = target.rstrip("/")
        self.delay = delay
        self.held = 0
        self._server: Optional[ThreadingHTTPServer] = None

    def start(self) -> SlowProxy:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _forward(self, body: Optional[bytes]) -> None:
                request = urllib.request.Request(
                    outer.target + self.path,
                    body,
                    {"Content-Type": self.headers.get("Content-Type", "application/json")},
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

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
