"""Check-in replies through the real SMS webhook: signed with Twilio's RequestValidator,
real SQLite, a scripted stand-in for the assistant (as tests/bot/channels/test_sms.py)."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET
from typing import Dict, List, Tuple

import pytest
from rasa.core.channels.channel import UserMessage
from twilio.request_validator import RequestValidator

from bot.channels.sms import SmsInput
from bot.channels.sms_format import Choice
from bot.channels.sms_store import get_sms_store
from bot.checkins.schedule import fill
from bot.checkins.sender import run_due
from bot.settings import get_settings
from tests.bot.checkins.conftest import ZONE
from tests.support.clock import at
from tests.support.sms import ACCOUNT_SID, AUTH_TOKEN, CLINIC_NUMBER, PATIENT

PUBLIC_URL = "https://clinic.example.test/webhooks/sms/webhook"
ADVICE = {"text": "Call the clinic now.", "utter_action": "utter_red_flag_urgent"}


class Assistant:
    """Stands in for Rasa's on_new_message: the advice for a warning sign, else an echo."""

    def __init__(self) -> None:
        self.received: List[str] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message.text or "")
        answer = ADVICE if "legs" in (message.text or "") else {"text": f"Answer: {message.text}"}
        await message.output_channel.send_response(message.sender_id, dict(answer))


def texts_of(xml: str) -> List[str]:
    return [m.text or "" for m in ET.fromstring(xml).findall("Message")] if xml else []


def post(assistant: Assistant, body: str, signed: bool = True) -> Tuple[int, List[str]]:
    fields: Dict[str, str] = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": "SM" + uuid.uuid4().hex,
        "From": PATIENT,
        "To": CLINIC_NUMBER,
        "NumMedia": "0",
        "Body": body,
    }
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL, fields)
    channel = SmsInput(auth_token=AUTH_TOKEN, webhook_url=PUBLIC_URL, reply_timeout=5.0)
    status, xml = asyncio.run(
        channel.handle(assistant, fields, signature if signed else "bad", "http://x/webhook")
    )
    return status, texts_of(xml)


@pytest.fixture
def sent(store, clock, enrolled, twilio):
    """The evening check-in has gone out through the fake Twilio API."""
    clock.set(at("2026-06-01 18:00", ZONE))
    run_due(store, get_settings(), clock)
    assert len(twilio.to(PATIENT)) == 2
    return enrolled


def test_an_answer_is_read_by_the_check_in_not_the_assistant(sent, schedule, checkins):
    assistant = Assistant()
    assert post(assistant, "3") == (200, [fill(schedule.entry("evening").reply)])
    assert not assistant.received
    assert checkins.checkins(sent)[0]["answer_value"] == "3"


def test_a_worrying_answer_gets_the_call_list_reply(sent, schedule, store):
    assert post(Assistant(), "about a 9") == (200, [fill(schedule.alert_reply)])
    assert store.list()[0]["tier"] == "callback"


def test_an_unsigned_reply_is_refused_and_not_read(sent, checkins):
    assistant = Assistant()
    assert post(assistant, "3", signed=False)[0] == 403
    assert checkins.checkins(sent)[0]["status"] == "sent" and not checkins.replies(sent)


def test_a_warning_sign_gets_the_assistants_advice_and_an_escalation(sent, store):
    assistant = Assistant()
    status, texts = post(assistant, "my legs went numb an hour ago")
    assert status == 200 and texts == ["Call the clinic now."]
    assert assistant.received == ["my legs went numb an hour ago"]
    [escalation] = store.list()
    assert escalation["tier"] in ("urgent", "emergency")


def test_a_question_is_answered_then_the_check_in_asks_again(sent, schedule, checkins):
    assistant = Assistant()
    status, [text] = post(assistant, "can I shower yet?")
    assert text.startswith("Answer: can I shower yet?")
    assert text.endswith(fill(schedule.answers["pain"]["how"]))
    assert checkins.checkins(sent)[0]["status"] == "sent"


def test_a_number_picking_a_button_offered_after_the_check_in_is_a_pick(sent, checkins):
    get_sms_store().offer(PATIENT, [Choice(1, "Ice", "How do I use ice?")])
    assistant = Assistant()
    post(assistant, "1")
    assert assistant.received == ["How do I use ice?"]
    assert checkins.checkins(sent)[0]["status"] == "sent"


def test_stop_by_text_ends_the_programmes_texts_and_start_resumes(
    sent, store, clock, twilio, checkins
):
    assert post(Assistant(), "STOP")[0] == 200
    clock.set(at("2026-06-03 10:30", ZONE))
    run_due(store, get_settings(), clock)
    assert len(twilio.to(PATIENT)) == 2
    statuses = {r["key"]: r["status"] for r in checkins.checkins(sent)}
    assert statuses["evening"] == "cancelled" and statuses["day2"] == "cancelled"
    post(Assistant(), "START")
    clock.set(at("2026-06-08 10:00", ZONE))
    run_due(store, get_settings(), clock)
    assert len(twilio.to(PATIENT)) == 3 and "Reply 1 better" in twilio.to(PATIENT)[-1].body
