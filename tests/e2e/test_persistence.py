"""A restart of the Rasa server loses nothing: conversations live in the database (the
SQLite file, or PostgreSQL)."""

from __future__ import annotations

import re

import pytest

from tests.support.profiles import query
from tests.support.servers import Client

pytestmark = [pytest.mark.e2e, pytest.mark.model]


def test_conversation_survives_a_restart(servers):
    client = Client(servers.rasa_port)
    client.text("persist-1", "how do i use ice packs")
    servers.stop("rasa")
    servers.start_rasa()
    answer = client.text("persist-1", "how long does that last")
    assert re.search(r"15 minutes", answer), answer
    rows = query("select distinct sender_id from events", env=servers.env)
    senders = {row["sender_id"] for row in rows}
    assert "rest:persist-1" in senders
