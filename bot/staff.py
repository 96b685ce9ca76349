"""Serves the staff pages (`bot.staff_app`, a Sanic app) inside the worker process.

The app runs on its own asyncio event loop in a background thread of the worker (the
worker's loop is plain synchronous code), bound to STAFF_INTERFACE (127.0.0.1 unless told)
at STAFF_PORT. `serve()` returns once the port is bound (a port in use fails at once) and
hands back a `StaffServer` whose `shutdown()` stops it. Being in-process keeps
`python -m bot serve` at three processes and lets tests move `bot.clock` under the server.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, Optional

from sanic import Sanic

from bot.settings import Settings
from bot.staff_app import authorised, create_app
from bot.store import Store

__all__ = ["StaffServer", "authorised", "serve"]

logger = logging.getLogger(__name__)


class StaffServer:
    """A Sanic app served on a private event loop in a daemon thread."""

    def __init__(self, app: Sanic, host: str, port: int) -> None:
        self.app, self.host, self.port = app, host, port
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._failed: Optional[BaseException] = None
        self._server: Any = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="staff-page")

    def start(self, timeout: float = 30.0) -> StaffServer:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the staff page did not start")
        if self._failed is not None:
            raise self._failed
        return self

    async def _start(self) -> None:
        # create_server binds the port and returns Sanic's AsyncioServer, already serving
        server = await self.app.create_server(
            host=self.host, port=self.port, return_asyncio_server=True
        )
        assert server is not None
        await server.startup()
        await server.before_start()
        await server.after_start()
        self._server = server

    async def _stop(self) -> None:
        server = self._server
        await server.before_stop()
        server.server.close()
        await server.server.wait_closed()
        for connection in list(server.connections):
            connection.close_if_idle()
        await asyncio.sleep(0)
        for connection in list(server.connections):
            connection.abort()  # an open keep-alive or a slow client: gone
        await server.after_stop()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as error:  # noqa: BLE001 - handed to start() and raised there
            self._failed = error
            self._ready.set()
            self._loop.close()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
            self._loop.run_until_complete(self._stop())
            left = asyncio.all_tasks(self._loop)  # e.g. a request still being answered
            for task in left:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        finally:
            self._loop.close()

    def shutdown(self, timeout: float = 10.0) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)


def serve(store: Store, settings: Settings, host: str = "127.0.0.1") -> StaffServer:
    """Start the staff page in a background thread; returns the server (shutdown() stops it)."""
    if not settings.staff_token:
        logger.warning("STAFF_TOKEN is not set: the staff API refuses every request")
    if not store.db.execute("select 1 from staff_users limit 1").fetchone():
        logger.warning(
            "No staff account yet: nobody can sign in to the staff pages "
            "(python -m bot staff add NAME --role nurse)"
        )
    # the worker's own store's file on SQLite; on PostgreSQL (DATABASE_URL) the store by settings
    db_path = None if settings.database_url else store.path
    return StaffServer(create_app(settings, db_path), host, settings.staff_port).start()
