"""Local receivers for clinic notifications: an HTTP webhook endpoint and an SMTP server.

Real servers on loopback, so notifier tests exercise real sockets; each records
what it received and can be stopped and started again on the same port.
"""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Dict, List, Type

from tests.support.loopback import LoopbackServer, QuietHandler, free_port


@dataclass
class Received:
    headers: Dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver(LoopbackServer):
    """Answers 200 to every POST and records it; `status` can make it fail."""

    port: int = field(default_factory=free_port)
    status: int = 200
    received: List[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def handler(self) -> Type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if outer.status == 200:
                    outer.received.append(Received(dict(self.headers.items()), body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


class _SmtpHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        server: SmtpReceiver = self.server.owner  # type: ignore[attr-defined]
        self.wfile.write(b"220 test SMTP\r\n")
        data: List[bytes] = []
        in_data = False
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if in_data:
                if line in (b".\r\n", b".\n"):
                    server.messages.append(b"".join(data).decode(errors="replace"))
                    data, in_data = [], False
                    self.wfile.write(b"250 queued\r\n")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 test\r\n")
            elif verb == b"DATA":
                in_data = True
                self.wfile.write(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class SmtpReceiver:
    """A minimal SMTP server that keeps every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: List[str] = []
        server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), _SmtpHandler)
        server.daemon_threads = True
        server.owner = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
