"""A restart of the Rasa server loses nothing: conversations live in SQLite."""

from __future__ import annotations

import re
import sqlite3

import pytest

from tests.support.servers import Client

pytestmark = [pytest.mark.e2e, pytest.mark.model]


def test_conversation_survives_a_restart(servers):
    client = Client(servers.rasa_port)
    client.text("persist-1", "how do i use ice packs")
    servers.stop("rasa")
    servers.start_rasa()
    answer = client.text("persist-1", "how long does that last")
    assert re.search(r"15 minutes", answer), answer
    with sqlite3.connect(servers.env["ASSISTANT_DB"]) as db:
        senders = {row[0] for row in db.execute("select distinct sender_id from events")}
    assert "rest:persist-1" in senders
