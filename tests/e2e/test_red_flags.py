"""Red flags end to end: real Rasa server, action server, worker, a local webhook receiver."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, Dict, List

import pytest

from bot.notify import verify
from bot.settings import get_settings
from tests.support.profiles import query
from tests.support.servers import STAFF_TOKEN, WEBHOOK_SECRET, Client
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.model]


def sender() -> str:
    return "rf-" + uuid.uuid4().hex[:10]


def rows(servers, conversation: str) -> List[Dict[str, Any]]:
    return query(
        "select * from escalations where sender = ?", [f"rest:{conversation}"], env=servers.env
    )


def hooks_for(webhook, escalation_id: int) -> list:
    return [r for r in webhook.received if json.loads(r.body)["escalation_id"] == escalation_id]


def test_red_flag_gets_urgent_reply_one_escalation_and_one_signed_webhook(servers, webhook):
    me = sender()
    reply = Client(servers.rasa_port).text(
        me, "my legs went numb this morning and its getting worse"
    )
    assert get_settings().clinic_phone in reply and "emergency room" in reply
    assert "sent this to the care team" in reply
    [row] = rows(servers, me)
    assert row["tier"] == "urgent" and "numbness" in row["symptoms"] and row["status"] == "open"
    [hook] = wait_until(lambda: hooks_for(webhook, row["id"]))
    assert verify(
        WEBHOOK_SECRET,
        hook.headers["X-Clinic-Timestamp"],
        hook.body,
        hook.headers["X-Clinic-Signature"],
    )
    time.sleep(1.5)
    assert len(hooks_for(webhook, row["id"])) == 1


def test_emergency_says_911_and_the_web_patient_is_asked_for_a_number(servers):
    me = sender()
    client = Client(servers.rasa_port)
    reply = client.text(me, "my mom passed out in the bathroom")
    assert "Call 911 now" in reply and "phone number" in reply
    reply = client.text(me, "555 555 0123")
    assert "+15555550123" in reply
    [row] = rows(servers, me)
    assert row["tier"] == "emergency" and row["callback_number"] == "+15555550123"


def test_repeat_reports_attach_to_the_open_escalation(servers):
    me = sender()
    client = Client(servers.rasa_port)
    client.text(me, "i have a fever of 102")
    client.text(me, "skip")
    client.text(me, "and now chills too")
    [row] = rows(servers, me)
    assert {"fever", "chills"} <= set(json.loads(row["symptoms"]))


def test_a_question_about_a_warning_sign_asks_are_you_having_this_now(servers):
    me = sender()
    client = Client(servers.rasa_port)
    reply = client.text(me, "is numbness normal after kyphoplasty?")
    assert "Are you having this now?" in reply and not rows(servers, me)
    reply = client.text(me, "yes")
    assert get_settings().clinic_phone in reply
    assert len(rows(servers, me)) == 1


def test_negated_symptom_does_not_escalate(servers):
    me = sender()
    Client(servers.rasa_port).text(
        me, "no numbness or tingling, just a bit sore where the needle went"
    )
    assert not rows(servers, me)


def test_receiver_down_then_up_delivers_exactly_once(servers, webhook):
    webhook.stop()
    try:
        me = sender()
        Client(servers.rasa_port).text(me, "there is pus coming out of my incision")
        [row] = rows(servers, me)
        wait_until(
            lambda: query(
                "select attempts from outbox where escalation_id = ? and attempts >= 2",
                [row["id"]],
                env=servers.env,
            )
        )
        assert not hooks_for(webhook, row["id"])
    finally:
        webhook.start()
    wait_until(lambda: hooks_for(webhook, row["id"]))
    time.sleep(2)
    assert len(hooks_for(webhook, row["id"])) == 1


def test_action_server_down_still_gives_advice_and_the_escalation_is_recorded(servers, webhook):
    servers.stop("actions")
    try:
        me = sender()
        reply = Client(servers.rasa_port).text(me, "i cant pee since last night")
        assert get_settings().clinic_phone in reply and "911" in reply
        [row] = wait_until(lambda: rows(servers, me))
        assert row["source"] == "reconciled" and row["tier"] == "urgent"
        wait_until(lambda: hooks_for(webhook, row["id"]))
    finally:
        servers.start_actions()
    time.sleep(1)
    assert len(rows(servers, me)) == 1


def test_staff_pages_need_sign_in_and_the_token_opens_only_the_api(servers):
    base = f"http://127.0.0.1:{servers.env['STAFF_PORT']}"
    for auth in (None, "Bearer wrong"):
        request = urllib.request.Request(base + "/api/escalations")
        if auth:
            request.add_header("Authorization", auth)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401
    request = urllib.request.Request(
        base + "/api/escalations", headers={"Authorization": f"Bearer {STAFF_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 200 and isinstance(json.loads(reply.read()), list)
    request = urllib.request.Request(base + "/", headers={"Authorization": f"Bearer {STAFF_TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as reply:  # follows the 303
        assert reply.url.endswith("/signin") and "Sign in" in reply.read().decode()


def test_server_logs_hold_no_message_text(servers):
    me = sender()
    Client(servers.rasa_port).text(me, "zebra-canary-7731 my chest hurts")
    time.sleep(1)
    log = servers.log.read_text()
    assert "zebra-canary-7731" not in log
    assert not re.search(r"\+1555555\d{4}", log)


def test_a_new_warning_sign_while_asked_for_a_number_is_answered_first(servers):
    me = sender()
    client = Client(servers.rasa_port)
    assert "phone number" in client.text(me, "my legs went numb this morning")
    reply = client.text(me, "now my chest hurts really bad")
    assert "Call 911 now" in reply
    [row] = rows(servers, me)
    assert row["tier"] == "emergency" and {"numbness", "chest_pain"} <= set(
        json.loads(row["symptoms"])
    )
    assert "+15555550177" in client.text(me, "555 555 0177")


def test_a_warning_sign_at_the_end_of_a_100_kb_message_is_escalated_and_the_cut_is_said(servers):
    from bot import replies

    me = sender()
    questions = "I had my kyphoplasty last week and I wonder when I can shower again. " * 1500
    text = questions[:99_900] + " Also my legs went numb an hour ago and I can't feel my feet."
    started = time.monotonic()
    reply = Client(servers.rasa_port).text(me, text)
    seconds = time.monotonic() - started
    assert "sent this to the care team" in reply and get_settings().clinic_phone in reply
    assert replies.truncated_note() in reply
    [row] = rows(servers, me)
    assert row["tier"] == "urgent" and "numbness" in row["symptoms"]
    assert seconds < 10


def test_after_911_advice_what_to_do_and_a_ride_keep_the_advice_not_the_form(servers):
    me = sender()
    client = Client(servers.rasa_port)
    assert "Call 911 now" in client.text(me, "my mom passed out in the bathroom")
    for turn in ("so what should i do", "my wife is driving me now"):
        reply = client.text(me, turn)
        assert "Call 911 now" in reply and "do not drive yourself" in reply, turn
        assert "does not look like a phone number" not in reply, turn
    [row] = rows(servers, me)
    assert row["tier"] == "emergency"
