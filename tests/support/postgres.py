"""A throwaway PostgreSQL server for the tests, from Debian's packages (`postgresql`).

`PostgresServer.start()` runs `initdb` into a fresh temporary folder and `pg_ctl start` on a
free loopback port, with its unix socket in that folder too (nothing in /var/run, no system
service): the tests get `postgresql://postgres@127.0.0.1:PORT/NAME` URLs, one new database
per test (`new_database`). `stop()` stops it and deletes the folder. It does not fsync (a
test server), but commits are synchronous, so `pause()` (a crash) loses no committed row.

initdb and postgres refuse to run as root. Under root (CI runs so) the server runs as the
`postgres` account the Debian package creates (`runuser -u postgres`), its folder handed to
that account; otherwise as the current user.

Binaries not there: the tests that need PostgreSQL are skipped with the reason, except when
`CI` or `REQUIRE_POSTGRES=1` is set (`.ci/run` sets it): then they fail, so CI never passes
with the PostgreSQL half of the contract tests skipped.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional

SERVICE_ACCOUNT = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started here (the message says why)."""


def required() -> bool:
    """Whether a missing PostgreSQL must fail the tests rather than skip them."""
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return ci or os.environ.get("REQUIRE_POSTGRES", "").strip() == "1"


def bindir() -> Optional[Path]:
    """The folder of initdb and pg_ctl: PG_BINDIR, else Debian's newest, else the PATH."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name)
        if Path(p).parent.parent.name.isdigit()
        else 0,
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One PostgreSQL server in a temporary folder, on loopback, trust authentication."""

    def __init__(self, bin_folder: Optional[Path] = None) -> None:
        folder = bin_folder or bindir()
        if folder is None or not (folder / "initdb").exists():
            raise PostgresUnavailable(
                "PostgreSQL is not installed (no initdb; `apt-get install postgresql`)"
            )
        self.bin = folder
        self.root: Optional[Path] = None
        self.port = 0
        self.user = "postgres"
        self._names = itertools.count(1)
        self._as: List[str] = []

    # -- running as the right account --------------------------------------------------

    def _account(self) -> None:
        if os.geteuid() != 0:
            return
        try:
            account = pwd.getpwnam(SERVICE_ACCOUNT)
        except KeyError as error:
            raise PostgresUnavailable(
                f"running as root and there is no {SERVICE_ACCOUNT!r} account to run "
                "PostgreSQL as (initdb refuses root)"
            ) from error
        runuser = shutil.which("runuser")
        if runuser is None:
            raise PostgresUnavailable("running as root and runuser is missing")
        assert self.root is not None
        os.chown(self.root, account.pw_uid, account.pw_gid)
        self._as = [runuser, "-u", SERVICE_ACCOUNT, "--"]

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self._as, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )

    # -- life -------------------------------------------------------------------------

    @property
    def data(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    def start(self) -> PostgresServer:
        self.root = Path(tempfile.mkdtemp(prefix="clinic-pg-"))
        self.root.chmod(0o700)
        self._account()
        done = self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        if done.returncode != 0:
            self.stop()
            raise PostgresUnavailable(f"initdb failed: {done.stdout[-2000:]}")
        last = ""
        for _ in range(5):
            self.port = free_port()
            done = self._pg_ctl_start()
            if done.returncode == 0:
                return self
            last = done.stdout + self.log()
        self.stop()
        raise PostgresUnavailable(f"pg_ctl start failed: {last[-2000:]}")

    def _pg_ctl_start(self) -> subprocess.CompletedProcess:
        assert self.root is not None
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        return self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def pause(self) -> None:
        """Stop the server as a crash would (its data stays): clients lose their connections."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def resume(self) -> None:
        """Start the paused server again, on the same port."""
        done = self._pg_ctl_start()
        if done.returncode != 0:
            raise PostgresUnavailable(f"pg_ctl start failed: {(done.stdout + self.log())[-2000:]}")

    def log(self) -> str:
        try:
            assert self.root is not None
            return (self.root / "server.log").read_text(errors="replace")
        except (OSError, AssertionError):
            return ""

    def stop(self) -> None:
        if self.root is None:
            return
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- databases -------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(
            self.url(), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(sql)
        finally:
            engine.dispose()

    def new_database(self, prefix: str = "test") -> str:
        """A new empty database; its URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        self._admin(f'create database "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database `new_database` made, closing whatever is still connected to it."""
        name = url.rsplit("/", 1)[1]
        self._admin(f'drop database if exists "{name}" with (force)')

    def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            done = self._run(
                str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), timeout=10
            )
            if done.returncode == 0:
                return
            time.sleep(0.2)
        raise PostgresUnavailable("PostgreSQL did not become ready")


# -- pytest fixtures (registered in tests/conftest.py) ---------------------------------

_server: Optional[PostgresServer] = None
_failure: Optional[str] = None


def session_server() -> PostgresServer:
    """The test session's one server, started on first use; skips (or fails, see `required`)
    when PostgreSQL cannot be started here."""
    import atexit

    import pytest

    global _server, _failure
    if _server is None and _failure is None:
        try:
            _server = PostgresServer().start()
            atexit.register(_server.stop)
        except PostgresUnavailable as error:
            _failure = str(error)
    if _server is None:
        reason = f"PostgreSQL: {_failure}"
        if required():
            pytest.fail(f"{reason} (required: CI or REQUIRE_POSTGRES=1 is set)", pytrace=False)
        pytest.skip(reason)
    return _server


def stop_session_server() -> None:
    global _server
    if _server is not None:
        _server.stop()
        _server = None
