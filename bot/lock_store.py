"""A Redis lock store whose tickets and queue are updated atomically, for several Rasa servers.

Configured when REDIS_URL is set (`lock_store: type: bot.lock_store.AtomicRedisLockStore` in the
generated endpoints file, bot/endpoints.py). Rasa serves the messages of one conversation one at
a time through a ticket lock: each message takes a ticket, waits until it holds the lowest one,
and gives it back when the turn is stored. Rasa 3.6's open-source `RedisLockStore` does each of
those steps as a read-modify-write of one JSON value (get, change in Python, set), so two Rasa
servers can take the same ticket number or overwrite each other's queue and run two turns of one
conversation at once (Rasa issue 9213; the atomic store is in Rasa Pro only). Here:
- the ticket number comes from Redis INCR, and issuing, polling, renewing and returning a ticket
  are each one Lua script, which Redis runs atomically: no step can interleave with another
  server's (the queue is a hash of ticket number -> expiry, timed by the Redis server's clock,
  so the servers' clocks need not agree);
- a ticket lives TICKET_LOCK_LIFETIME seconds (Rasa's setting, 60 s) unless renewed, and the
  process that holds or waits for it renews it every third of that while it is alive. Rasa
  lets a ticket expire under a turn that outlasts it (a slow custom action), and the next
  message of the conversation then runs beside the first one; here only a dead process's
  tickets expire, so a crashed server cannot hold a conversation for longer than that;
- a waiting message checks again every 50 ms, not every second;
- when Redis cannot be reached, the turn runs under this process's own lock, with an ERROR
  logged, rather than failing: the patient still gets an answer (the urgent advice included),
  and only two messages of one conversation arriving on two servers during the outage could
  overlap. For OUTAGE_SECONDS after a failure Redis is not tried again, so an unreachable host
  does not hold up every message by its connect timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, AsyncIterator, Optional

import redis
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "clinic_lock:"
POLL_SECONDS = 0.05
# a conversation's ticket counter outlives its queue, so numbers never go back while a
# ticket of that conversation could still be alive
COUNTER_SECONDS = 24 * 3600
# Redis calls run on the event loop (Rasa's lock store interface is synchronous): keep them short
SOCKET_SECONDS = 2.0
# after Redis failed, this long under the process's own lock before trying it again
OUTAGE_SECONDS = 5.0

# Every script: KEYS[1] the queue (hash: ticket number -> expiry, in Redis server seconds),
# KEYS[2] the conversation's ticket counter. Expired tickets are dropped first.
_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local queue = redis.call('HGETALL', KEYS[1])
for i = 1, #queue, 2 do
  if tonumber(queue[i + 1]) <= now then redis.call('HDEL', KEYS[1], queue[i]) end
end
"""

# ARGV[1] lifetime (s): a new ticket, the next number of the counter; returns its number
_ISSUE = (
    _PRELUDE
    + """
local lifetime = tonumber(ARGV[1])
local number = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], number, tostring(now + lifetime))
redis.call('PEXPIRE', KEYS[1], math.ceil(lifetime * 1000) + 1000)
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
return number
"""
)

# ARGV[1] ticket: 1 if it is the lowest ticket alive (its turn), 0 if it waits, -1 if gone
_POLL = (
    _PRELUDE
    + """
local mine = tonumber(ARGV[1])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -1 end
local numbers = redis.call('HKEYS', KEYS[1])
for _, n in ipairs(numbers) do
  if tonumber(n) < mine then return 0 end
end
return 1
"""
)

# ARGV[1] ticket, ARGV[2] lifetime: pushes its expiry on; 1 if renewed, 0 if it was gone
_RENEW = (
    _PRELUDE
    + """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local lifetime = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], tostring(now + lifetime))
local ttl = redis.call('PTTL', KEYS[1])
local wanted = math.ceil(lifetime * 1000) + 1000
if ttl < wanted then redis.call('PEXPIRE', KEYS[1], wanted) end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return 1
"""
)

# ARGV[1] ticket: gives it back; the queue goes when it is empty. Returns tickets left
_RELEASE = (
    _PRELUDE
    + """
redis.call('HDEL', KEYS[1], ARGV[1])
local left = redis.call('HLEN', KEYS[1])
if left == 0 then redis.call('DEL', KEYS[1]) end
return left
"""
)


class AtomicRedisLockStore(LockStore):
    """Rasa's ticket lock on Redis with atomic tickets, renewal while alive (see module)."""

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        url: Optional[str] = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        socket_timeout: float = SOCKET_SECONDS,
    ) -> None:
        kwargs = dict(endpoint_config.kwargs) if endpoint_config else {}
        url = url or (endpoint_config.url if endpoint_config else None)
        if not url:
            raise ValueError("AtomicRedisLockStore needs a Redis URL (REDIS_URL)")
        self.key_prefix = str(kwargs.get("key_prefix") or key_prefix)
        timeout = float(kwargs.get("socket_timeout") or socket_timeout)
        self.red = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._issue = self.red.register_script(_ISSUE)
        self._poll = self.red.register_script(_POLL)
        self._renew = self.red.register_script(_RENEW)
        self._release = self.red.register_script(_RELEASE)
        # used only while Redis cannot be reached
        self._local = InMemoryLockStore()
        self._down_until = 0.0
        super().__init__()

    def _keys(self, conversation_id: str) -> list:
        queue = self.key_prefix + conversation_id
        return [queue, queue + ":last_issued"]

    # -- the four atomic steps -------------------------------------------------------------

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """A new ticket for the conversation (one INCR and one queue update, atomically)."""
        try:
            return int(
                self._issue(keys=self._keys(conversation_id), args=[lock_lifetime, COUNTER_SECONDS])
            )
        except redis.RedisError as error:
            raise LockError(f"could not issue a ticket: {type(error).__name__}") from error

    def poll(self, conversation_id: str, ticket: int) -> int:
        """1 when `ticket` is the conversation's turn, 0 while it waits, -1 if it is gone."""
        return int(self._poll(keys=self._keys(conversation_id), args=[ticket]))

    def renew(self, conversation_id: str, ticket: int, lock_lifetime: float) -> bool:
        """Push the ticket's expiry `lock_lifetime` seconds on; False if it had gone."""
        return bool(
            self._renew(
                keys=self._keys(conversation_id), args=[ticket, lock_lifetime, COUNTER_SECONDS]
            )
        )

    def release(self, conversation_id: str, ticket: int) -> int:
        """Give the ticket back; returns how many tickets still wait."""
        return int(self._release(keys=self._keys(conversation_id), args=[ticket]))

    # -- Rasa's LockStore interface --------------------------------------------------------

    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        """The conversation's queue as Rasa's TicketLock (for inspection; expiry in the
        Redis server's seconds)."""
        queue = self.red.hgetall(self.key_prefix + conversation_id)
        if not queue:
            return None
        tickets = sorted(
            (Ticket(int(number), float(expires)) for number, expires in queue.items()),
            key=lambda ticket: ticket.number,
        )
        return TicketLock(conversation_id, tickets)

    def delete_lock(self, conversation_id: str) -> None:
        self.red.delete(*self._keys(conversation_id))

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError("AtomicRedisLockStore changes its queue only atomically")

    def update_lock(self, conversation_id: str) -> None:
        """Nothing to do: every script drops the expired tickets first."""

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self.release(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give the ticket back (the queue is deleted in the same step when it empties)."""
        self.release(conversation_id, ticket_number)

    @contextlib.asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = POLL_SECONDS,
    ) -> AsyncIterator[Any]:
        """Hold the conversation's lock: wait for the ticket's turn, renewing it while this
        process is alive, and give it back at the end (see module)."""
        ticket = None
        if time.monotonic() >= self._down_until:
            try:
                ticket = self.issue_ticket(conversation_id, lock_lifetime)
            except LockError as error:
                self._down_until = time.monotonic() + OUTAGE_SECONDS
                logger.error(
                    "the lock store (Redis) cannot be reached (%s): this turn runs under this "
                    "server's own lock only, and so do the next %.0f s",
                    error,
                    OUTAGE_SECONDS,
                )
        if ticket is None:
            async with self._local.lock(conversation_id, lock_lifetime, wait_time_in_seconds):
                yield None
            return
        renewing = asyncio.ensure_future(self._keep_alive(conversation_id, ticket, lock_lifetime))
        try:
            if await self._wait_for_turn(conversation_id, ticket):
                yield ticket
            else:
                async with self._local.lock(conversation_id, lock_lifetime, wait_time_in_seconds):
                    yield None
        finally:
            renewing.cancel()
            try:
                self.release(conversation_id, ticket)
            except redis.RedisError as error:
                logger.warning(
                    "could not give back a conversation's ticket (%s); it expires in %.0f s",
                    type(error).__name__,
                    lock_lifetime,
                )

    async def _wait_for_turn(self, conversation_id: str, ticket: int) -> bool:
        """True when the ticket's turn came; False when Redis lost it or cannot be reached
        (the turn then runs under this server's own lock, as when issuing fails)."""
        while True:
            try:
                turn = self.poll(conversation_id, ticket)
            except redis.RedisError as error:
                logger.error(
                    "lost the lock store while waiting (%s): this turn runs under this "
                    "server's own lock only",
                    type(error).__name__,
                )
                return False
            if turn == 1:
                return True
            if turn == -1:
                logger.error(
                    "a conversation's ticket vanished from Redis while it waited (Redis "
                    "restarted?): this turn runs under this server's own lock only"
                )
                return False
            await asyncio.sleep(POLL_SECONDS)

    async def _keep_alive(self, conversation_id: str, ticket: int, lifetime: float) -> None:
        while True:
            await asyncio.sleep(lifetime / 3)
            try:
                if not self.renew(conversation_id, ticket, lifetime):
                    logger.warning("a conversation's ticket was gone when renewed (Redis reset?)")
                    return
            except redis.RedisError as error:
                logger.warning("could not renew a conversation's ticket: %s", type(error).__name__)
