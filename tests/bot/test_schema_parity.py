"""The assistant's tables are declared twice, once for SQLite (sqlite-utils: bot.store_schema,
bot.care_schema, bot.checkins.schema, bot.channels.sms_store, bot.channels.web_sessions) and once
for PostgreSQL (SQLAlchemy Core: bot.storage.schema), so that one SQL text runs on both. Until
they are one declaration, this keeps them the same: every table, every column, every index name."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Dict, Iterator, Set

import pytest

from bot.channels.sms_store import SmsStore
from bot.channels.web_sessions import WebSessions
from bot.settings import get_settings
from bot.storage.schema import metadata
from bot.store import Store


@pytest.fixture(autouse=True)
def declarations_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """It compares declarations, not profiles: the SQLite side is made in a file of its own
    on either test run (the PostgreSQL run's DATABASE_URL would refuse the SQLite store)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def sqlite_schema(path: Path) -> Dict[str, Set[str]]:
    store = Store(path)
    SmsStore(store).db  # noqa: B018 - creates its tables on first use
    WebSessions(path=path)
    with sqlite3.connect(path) as db:
        names = [
            n
            for (n,) in db.execute("select name from sqlite_master where type = 'table'")
            if not n.startswith("sqlite_")
        ]
        return {n: {r[1] for r in db.execute(f"pragma table_info({n})")} for n in names}


def sqlite_indexes(path: Path) -> Set[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("select name from sqlite_master where type = 'index'").fetchall()
    return {n for (n,) in rows if not n.startswith("sqlite_autoindex")}


def test_both_declarations_have_the_same_tables_and_columns(tmp_path: Path) -> None:
    lite = sqlite_schema(tmp_path / "assistant.db")
    postgres = {name: {c.name for c in t.columns} for name, t in metadata.tables.items()}
    assert sorted(lite) == sorted(postgres)
    differ = {t: lite[t] ^ postgres[t] for t in lite if lite[t] != postgres[t]}
    assert not differ


def test_both_declarations_have_the_same_indexes(tmp_path: Path) -> None:
    path = tmp_path / "assistant.db"
    sqlite_schema(path)
    postgres = {i.name for t in metadata.tables.values() for i in t.indexes}
    assert sqlite_indexes(path) == postgres
