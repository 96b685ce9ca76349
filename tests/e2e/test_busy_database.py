"""A locked database makes turns wait, never lose them: another process holds the SQLite
file's write lock, or on PostgreSQL (TEST_DATABASE=postgresql) a lock on the events table."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Dict

import pytest

from tests.e2e.conftest import Client
from tests.support.locks import Lock
from tests.support.profiles import query

pytestmark = [pytest.mark.e2e, pytest.mark.model]


def user_turns(env: Dict[str, str], conversation: str) -> int:
    """The conversation's stored user turns, on the servers' database."""
    [row] = query(
        "select count(*) as turns from events where sender_id = ? and type_name = 'user'",
        [conversation],
        env=env,
    )
    return int(row["turns"])


def test_every_turn_is_stored_while_another_process_holds_the_database_for_10_s(servers):
    client = Client(servers.rasa_port)
    senders = [f"lock-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    for me in senders:  # continuing conversations, as in the issue
        client.text(me, "how do i use ice packs")
    # the SQLite file, or the events table on the servers' DATABASE_URL
    holder = Lock.on_database_of(servers.env, 10)
    started = time.monotonic()

    def talk(me: str) -> list:
        return [client.text(me, q) for q in ("how long does that last", "can i take a shower")]

    with ThreadPoolExecutor(len(senders)) as pool:
        answers = list(pool.map(talk, senders))
    holder.wait()
    print(f"6 turns under a 10 s lock answered in {time.monotonic() - started:.1f} s")
    assert all(all(a.strip() for a in pair) for pair in answers)
    kept = {me: user_turns(servers.env, f"rest:{me}") for me in senders}
    assert kept == {me: 3 for me in senders}, kept
