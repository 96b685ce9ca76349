"""The part every local test server shares: an HTTP server on 127.0.0.1 in a daemon thread,
quiet, that can be stopped and started again on the same port."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional, Type, TypeVar

Server = TypeVar("Server", bound="LoopbackServer")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class QuietHandler(BaseHTTPRequestHandler):
    """Writes nothing to stderr for each request."""

    def log_message(self, *args: object) -> None:
        pass


class LoopbackServer:
    """Subclasses set `port` and return their request handler class from `handler()`."""

    port: int
    _server: Optional[ThreadingHTTPServer] = None

    def handler(self) -> Type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self: Server) -> Server:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
