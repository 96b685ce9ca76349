"""A real redis-server for tests: started on a free loopback port in a temporary directory,
stopped (or restarted, to test an outage) by the test.

Without the `redis-server` binary the test is skipped on a developer's machine, and fails
when REQUIRE_REDIS=1 or CI is set: CI installs it (.ci/run), so a skip there would hide a
test that never ran.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Optional

import pytest

from tests.support.loopback import free_port


def required(what: str) -> bool:
    """True when a missing service must fail the test rather than skip it."""
    flag = f"REQUIRE_{what.upper()}"
    return any(os.environ.get(name, "").strip() not in ("", "0") for name in (flag, "CI"))


def binary_or_skip(name: str, what: str, path: Optional[str] = None) -> str:
    """The path of a server binary; skip (or fail, see `required`) when it is missing."""
    found = path if path and os.access(path, os.X_OK) else shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (apt-get install {what})"
    if required(what):
        pytest.fail(message + f"; REQUIRE_{what.upper()} or CI is set")
    pytest.skip(message)


class RedisServer:
    """One redis-server process: no persistence, loopback only, its files under `directory`."""

    def __init__(self, directory: Path) -> None:
        self.binary = binary_or_skip("redis-server", "redis")
        self.directory = directory
        self.port = free_port()
        self.process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "redis.log").open("a")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait()
        return self

    def _wait(self, seconds: float = 10) -> None:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {self.process.returncode}")
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise TimeoutError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port, with nothing kept (as a crash would)."""
        self.stop()
        self.start()
