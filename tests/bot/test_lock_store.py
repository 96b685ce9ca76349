"""bot/lock_store.py against a real redis-server: tickets never repeat across servers, a turn
longer than the ticket lifetime keeps the next message out, and an outage still answers."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
import redis

from bot.lock_store import AtomicRedisLockStore
from tests.support.redis import RedisServer


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    if redis_server.process is None:
        redis_server.start()
    redis.Redis.from_url(redis_server.url).flushall()
    return redis_server.url


def test_two_servers_issuing_at_once_never_share_a_ticket(redis_url: str) -> None:
    # four "servers" (their own connections) issue tickets for one conversation at once
    issued: List[int] = []
    start = threading.Barrier(4)

    def issue() -> None:
        store = AtomicRedisLockStore(url=redis_url)
        start.wait()
        numbers = [store.issue_ticket("rest:one", 60) for _ in range(150)]
        issued.extend(numbers)

    threads = [threading.Thread(target=issue) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(issued) == list(range(1, 601))
    queue = AtomicRedisLockStore(url=redis_url).get_lock("rest:one")
    assert queue is not None and len(queue.tickets) == 600


def test_rasas_own_redis_lock_store_issues_one_ticket_twice(redis_url: str) -> None:
    """The trap this module exists for (Rasa issue 9213), step by step as two servers
    interleave: both read the queue, both add one to its last ticket, both save."""
    from rasa.core.lock_store import RedisLockStore

    host, port = redis_url.removeprefix("redis://").split("/")[0].split(":")
    first, second = RedisLockStore(host, int(port), db=0), RedisLockStore(host, int(port), db=0)
    lock_a, lock_b = first.get_or_create_lock("rest:one"), second.get_or_create_lock("rest:one")
    ticket_a, ticket_b = lock_a.issue_ticket(60), lock_b.issue_ticket(60)
    first.save_lock(lock_a)
    second.save_lock(lock_b)
    assert ticket_a == ticket_b == 0  # the first ticket is 0 in Rasa
    stored = first.get_lock("rest:one")
    assert stored is not None and len(stored.tickets) == 1  # one message's ticket is lost


async def _turns(
    stores: List[AtomicRedisLockStore], hold: float, lifetime: float, gap: float = 0.05
) -> List[Tuple[str, float]]:
    """One turn per store on one conversation, started `gap` apart, each holding the lock
    `hold` seconds; returns (what, when) in the order things happened."""
    happened: List[Tuple[str, float]] = []

    async def turn(index: int, store: AtomicRedisLockStore) -> None:
        await asyncio.sleep(index * gap)
        async with store.lock("rest:slow", lock_lifetime=lifetime):
            happened.append((f"in {index}", time.monotonic()))
            await asyncio.sleep(hold)
            happened.append((f"out {index}", time.monotonic()))

    await asyncio.gather(*(turn(i, s) for i, s in enumerate(stores)))
    return happened


def test_messages_of_one_conversation_on_two_servers_run_one_after_another(
    redis_url: str,
) -> None:
    stores = [AtomicRedisLockStore(url=redis_url) for _ in range(2)] * 3
    happened = asyncio.run(_turns(stores, hold=0.1, lifetime=60, gap=0.01))
    assert [what for what, _ in happened] == [
        f"{side} {i}" for i in range(6) for side in ("in", "out")
    ]
    assert not redis.Redis.from_url(redis_url).keys("clinic_lock:rest:slow")  # queue gone


def test_a_turn_longer_than_the_ticket_lifetime_keeps_the_next_message_out(
    redis_url: str,
) -> None:
    # a custom action taking 2.5 s against a 1 s ticket lifetime (60 s in production)
    stores = [AtomicRedisLockStore(url=redis_url), AtomicRedisLockStore(url=redis_url)]
    happened = asyncio.run(_turns(stores, hold=2.5, lifetime=1.0, gap=0.2))
    assert [what for what, _ in happened] == ["in 0", "out 0", "in 1", "out 1"]


def test_rasas_in_memory_lock_lets_the_next_message_in_under_a_slow_turn() -> None:
    """What Rasa's own stores do with that turn (the ticket logic is the same in all of
    them): the first ticket expires under the slow action and the second message runs
    beside it."""
    from rasa.core.lock_store import InMemoryLockStore

    store = InMemoryLockStore()

    async def both() -> List[str]:
        happened: List[str] = []

        async def turn(index: int) -> None:
            await asyncio.sleep(index * 0.2)
            async with store.lock("rest:slow", lock_lifetime=1.0, wait_time_in_seconds=0.1):
                happened.append(f"in {index}")
                await asyncio.sleep(2.5)
                happened.append(f"out {index}")

        await asyncio.gather(turn(0), turn(1))
        return happened

    assert asyncio.run(both())[:2] == ["in 0", "in 1"]


def test_a_crashed_servers_ticket_expires_and_the_conversation_goes_on(redis_url: str) -> None:
    crashed = AtomicRedisLockStore(url=redis_url)
    crashed.issue_ticket("rest:crash", 1.0)  # taken, then the process died: never renewed

    async def next_message() -> float:
        started = time.monotonic()
        async with AtomicRedisLockStore(url=redis_url).lock("rest:crash", lock_lifetime=1.0):
            return time.monotonic() - started

    waited = asyncio.run(next_message())
    assert 0.5 < waited < 3


def test_with_redis_down_the_turn_still_runs_and_says_why(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = AtomicRedisLockStore(url=redis_server.url)
    redis_server.stop()

    async def turn() -> str:
        async with store.lock("rest:down"):
            return "answered"

    with caplog.at_level(logging.ERROR, logger="bot.lock_store"):
        assert asyncio.run(turn()) == "answered"
    assert "cannot be reached" in caplog.text
    redis_server.start()


def test_redis_restarting_under_a_turn_neither_fails_it_nor_blocks_the_next(
    redis_server: RedisServer, redis_url: str, tmp_path: Path
) -> None:
    store = AtomicRedisLockStore(url=redis_url)

    async def turns() -> List[str]:
        done = []
        async with store.lock("rest:restart", lock_lifetime=60):
            redis_server.restart()  # the queue and the counter are lost
            done.append("first")
        async with store.lock("rest:restart", lock_lifetime=60):
            done.append("second")
        return done

    assert asyncio.run(asyncio.wait_for(turns(), 10)) == ["first", "second"]


def test_rasa_builds_it_from_the_generated_endpoints_section(redis_url: str) -> None:
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    from bot.endpoints import LOCK_STORE

    store = LockStore.create(EndpointConfig(url=redis_url, type=LOCK_STORE))
    assert isinstance(store, AtomicRedisLockStore)
    assert store.issue_ticket("rest:built", 60) == 1
