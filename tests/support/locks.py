"""Another process holding the database's write lock, for the tests of what waits it out."""

from __future__ import annotations

import subprocess
import sys
from typing import Mapping

SQLITE_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""

POSTGRESQL_HOLDER = """
import psycopg2, sys, time
conn = psycopg2.connect(sys.argv[1])
conn.cursor().execute("lock table events in exclusive mode")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.commit()
"""


class Lock:
    """Another process holding a write lock on `target` (the SQLite file, or with
    `holder=POSTGRESQL_HOLDER` a PostgreSQL URL's events table) for `seconds`; returns once
    the lock is held."""

    def __init__(self, target: object, seconds: float, holder: str = SQLITE_HOLDER) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", holder, str(target), str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "locked"

    @classmethod
    def on_database_of(cls, env: Mapping[str, str], seconds: float) -> Lock:
        """The lock on the database a server environment names: the events table on its
        DATABASE_URL, or its ASSISTANT_DB file."""
        url = env.get("DATABASE_URL", "")
        if url:
            return cls(url, seconds, POSTGRESQL_HOLDER)
        return cls(env["ASSISTANT_DB"], seconds)

    def wait(self) -> None:
        self.process.wait(timeout=60)
