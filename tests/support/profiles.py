"""The database profile the tests run on, and what lets one test check either profile.

Without TEST_DATABASE the tests run on the embedded profile (SQLite, the ASSISTANT_DB file);
TEST_DATABASE=postgresql gives each test a PostgreSQL database of its own as DATABASE_URL
(tests/conftest.py). A test opens the store by settings (`bot.store.get_store()` or
`open_store()`) and reads back through it, or through the helpers here:

- `tracker_store_kwargs()`: Rasa's SQL tracker store on the database the settings name,
  configured as the servers configure it (endpoints.yml, bot/endpoints.py), and
  `create_events_table()`, its table made by it;
- `query(sql, args, env)`, `has_table(name, env)`: rows of `?`-placeholder SQL on the
  database the settings name, or the one a server environment names (`servers.env`),
  through SQLAlchemy on either (`missing_table(error)`: it is not created yet);
- `store_of(env)`: the store on a server environment's database;
- `use_database_of(env, monkeypatch)`: this process's settings on a server's database.

A test that is by nature about one profile (the bytes of the SQLite file, the SQLite tracker
store Redis alone leaves in place) is marked `sqlite_only("why")` or `postgresql_only("why")`;
keep them few, and give a SQLite-only test its PostgreSQL counterpart where one means something.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import pytest
import sqlalchemy as sa

from bot import endpoints
from bot.settings import get_settings
from bot.storage.portable import pyformat
from bot.store import SqliteStore, Store

POSTGRESQL = "postgresql"
UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE for a table that does not exist


def on_postgresql() -> bool:
    """Whether this run is the PostgreSQL profile's (TEST_DATABASE=postgresql)."""
    return os.environ.get("TEST_DATABASE", "").strip().lower() == POSTGRESQL


def sqlite_only(reason: str) -> pytest.MarkDecorator:
    """Skip on the PostgreSQL run: the test is about the SQLite profile itself."""
    return pytest.mark.skipif(on_postgresql(), reason=f"SQLite profile only: {reason}")


def postgresql_only(reason: str) -> pytest.MarkDecorator:
    """Skip on the SQLite run: the test is about the PostgreSQL profile itself."""
    return pytest.mark.skipif(not on_postgresql(), reason=f"PostgreSQL profile only: {reason}")


def database_url(env: Optional[Mapping[str, str]] = None) -> str:
    """The SQLAlchemy URL of the assistant's database: DATABASE_URL, else the ASSISTANT_DB
    file, from `env` (a server environment) or else this process's settings."""
    if env is None:
        settings = get_settings()
        return settings.database_url or f"sqlite:///{settings.assistant_db}"
    return env.get("DATABASE_URL", "").strip() or f"sqlite:///{env['ASSISTANT_DB']}"


def _engine(url: str) -> sa.engine.Engine:
    postgres = not url.startswith("sqlite")
    return sa.create_engine(
        url,
        poolclass=sa.pool.NullPool,
        connect_args={"connect_timeout": 10} if postgres else {"timeout": 30},
    )


def query(
    sql: str, args: Sequence[Any] = (), env: Optional[Mapping[str, str]] = None
) -> List[Dict[str, Any]]:
    """The rows of one statement (`?` placeholders), as dicts (none for a write, which is
    committed), on the database `database_url(env)` names; a connection of its own."""
    url = database_url(env)
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            postgres = engine.dialect.name != "sqlite"
            result = conn.exec_driver_sql(pyformat(sql) if postgres else sql, tuple(args))
            return [dict(row._mapping) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def has_table(name: str, env: Optional[Mapping[str, str]] = None) -> bool:
    """Whether the database `database_url(env)` names has the table `name` yet (a SQLite
    file that does not exist yet is not created)."""
    url = sa.engine.make_url(database_url(env))
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return False
    engine = _engine(str(url))
    try:
        return bool(sa.inspect(engine).has_table(name))
    finally:
        engine.dispose()


def missing_table(error: BaseException) -> bool:
    """Whether a failed `query` failed only because its table is not created yet."""
    if not isinstance(error, sa.exc.DBAPIError):
        return False
    if getattr(error.orig, "pgcode", None) == UNDEFINED_TABLE:
        return True
    return "no such table" in str(error.orig)


def store_of(env: Mapping[str, str]) -> Store:
    """The assistant's store on the database of a server environment (`servers.env`)."""
    if env.get("DATABASE_URL", "").strip():
        from bot.storage.sql import SqlStore

        return SqlStore(env["DATABASE_URL"], path=Path(env["ASSISTANT_DB"]))
    return SqliteStore(Path(env["ASSISTANT_DB"]))


def use_database_of(env: Mapping[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Give this process's settings the database of a server environment (`servers.env`):
    its ASSISTANT_DB, and its DATABASE_URL or none."""
    monkeypatch.setenv("ASSISTANT_DB", env["ASSISTANT_DB"])
    if env.get("DATABASE_URL", "").strip():
        monkeypatch.setenv("DATABASE_URL", env["DATABASE_URL"])
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()


def tracker_store_kwargs() -> Dict[str, Any]:
    """The keyword arguments of Rasa's SQL tracker store on the database the settings name,
    as the servers' endpoints file gives them (the password filled in)."""
    settings = get_settings()
    if not settings.database_url:
        return {"dialect": "sqlite", "db": str(settings.assistant_db)}
    section = endpoints.tracker_store(settings.database_url)
    section.pop("type")
    section["host"] = section.pop("url")  # Rasa reads the endpoint's `url` as the host
    if "password" in section:
        section["password"] = endpoints.database_password(settings.database_url)
    return section


def create_events_table() -> None:
    """Rasa's `events` table on the database by settings, as Rasa's SQL tracker store makes it
    (for tests that write a conversation's rows themselves)."""
    from rasa.core.tracker_store import SQLTrackerStore

    SQLTrackerStore(**tracker_store_kwargs()).engine.dispose()
