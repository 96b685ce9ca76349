"""bot/endpoints.py: the endpoints file follows DATABASE_URL and REDIS_URL, nothing else."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot import endpoints
from bot.settings import get_settings


def test_without_the_scale_out_settings_the_committed_file_is_used_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    assert endpoints.endpoints_file(get_settings(), tmp_path) == endpoints.BASE
    assert list(tmp_path.iterdir()) == []
    base = yaml.safe_load(endpoints.BASE.read_text())
    assert base["tracker_store"]["dialect"] == "sqlite"
    assert "lock_store" not in base


def test_postgresql_and_redis_give_their_own_file_with_no_secret_in_it(tmp_path: Path) -> None:
    settings = replace(
        get_settings(),
        database_url="postgresql://clinic:s3cret%21@db.internal:6543/assistant?sslmode=require",
        redis_url="redis://:redispass@cache.internal:6379/0",
    )
    path = endpoints.endpoints_file(settings, tmp_path)
    assert path == tmp_path / "endpoints.postgresql-redis.yml"
    text = path.read_text()
    assert "s3cret" not in text and "redispass" not in text
    config = yaml.safe_load(text)
    assert config["tracker_store"] == {
        "type": "bot.tracker_store.ClinicSQLTrackerStore",
        "dialect": "postgresql",  # not postgresql+psycopg2: Rasa drops the pool settings
        "url": "db.internal",
        "port": 6543,
        "db": "assistant",
        "username": "clinic",
        "password": "${TRACKER_DB_PASSWORD}",
        "query": {"sslmode": "require"},
    }
    assert config["lock_store"] == {
        "type": "bot.lock_store.AtomicRedisLockStore",
        "url": "${REDIS_URL}",
    }
    # everything else comes from endpoints.yml unchanged
    base = yaml.safe_load(endpoints.BASE.read_text())
    assert config["action_endpoint"] == base["action_endpoint"]
    assert config["nlg"] == base["nlg"]
    assert endpoints.database_password(settings.database_url) == "s3cret!"


def test_redis_alone_keeps_the_sqlite_tracker_store(tmp_path: Path) -> None:
    # Redis alone: no DATABASE_URL, whichever profile the tests run on
    settings = replace(get_settings(), redis_url="redis://127.0.0.1:6379/0", database_url=None)
    config = yaml.safe_load(endpoints.endpoints_file(settings, tmp_path).read_text())
    assert config["tracker_store"]["dialect"] == "sqlite"
    assert config["lock_store"]["type"] == endpoints.LOCK_STORE


def test_a_database_url_that_is_not_postgresql_is_refused() -> None:
    with pytest.raises(ValueError, match="postgresql"):
        endpoints.tracker_store("mysql://clinic@db/assistant")


@pytest.mark.parametrize("servers", [1, 2, 4, 8, 16])
def test_every_rasa_server_at_its_fullest_fits_in_postgresqls_connections(servers: int) -> None:
    pool, overflow = endpoints.pool_sizes(servers)
    assert pool >= 1 and overflow >= 1
    assert servers * (pool + overflow) <= endpoints.MAX_CONNECTIONS - 3 - 20
    assert pool + overflow <= endpoints.PER_SERVER


def test_the_servers_get_the_password_and_pool_sizes_only_with_a_database_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.servers import server_env

    for name in ("DATABASE_URL", "SQL_POOL_SIZE", "SQL_MAX_OVERFLOW", "TRACKER_DB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    plain = server_env()
    assert "TRACKER_DB_PASSWORD" not in plain and "SQL_POOL_SIZE" not in plain
    env = server_env(extra={"DATABASE_URL": "postgresql://clinic:pw%40x@db/assistant"})
    assert env["TRACKER_DB_PASSWORD"] == "pw@x"
    assert (env["SQL_POOL_SIZE"], env["SQL_MAX_OVERFLOW"]) == ("5", "5")
