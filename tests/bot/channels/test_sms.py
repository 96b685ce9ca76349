"""The SMS channel in process: real signature checks, SQLite and a fake Twilio API; a
scripted stand-in for the assistant (the end-to-end tests use the real one)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import xml.etree.ElementTree as ET
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode

import pytest
from rasa.core.channels.channel import UserMessage
from twilio.request_validator import RequestValidator

from bot import replies
from bot.channels.sms import SmsInput, parse_form
from bot.channels.sms_store import get_sms_store
from bot.settings import get_settings
from tests.support.sms import ACCOUNT_SID, AUTH_TOKEN, CLINIC_NUMBER, PATIENT

PUBLIC_URL = "https://clinic.example.test/webhooks/sms/webhook"
LOCAL_URL = "http://127.0.0.1:5005/webhooks/sms/webhook"
HANG = "hang"
URGENT = {"text": "Call the clinic now.", "utter_action": "utter_red_flag_urgent"}
TOLD = {"text": "I have sent this to the care team.", "utter_action": "utter_escalated_urgent"}
MENU = {
    "text": "Pick a topic.",
    "buttons": [
        {"title": "Ice packs", "payload": "How should I use ice packs?"},
        {"title": "Pain medicine", "payload": "What pain medicine can I take?"},
    ],
}


class Assistant:
    """Stands in for Rasa's on_new_message: scripted messages per text, else an echo."""

    def __init__(self, script: Optional[Dict[str, List[Any]]] = None, hang: float = 1.0):
        self.script = script or {}
        self.hang = hang
        self.received: List[UserMessage] = []

    @property
    def texts(self) -> List[str]:
        return [m.text or "" for m in self.received]

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        steps = self.script.get(message.text or "", [{"text": f"Answer: {message.text}"}])
        for step in steps:
            if step == HANG:
                await asyncio.sleep(self.hang)
            elif isinstance(step, Exception):
                raise step
            else:
                await message.output_channel.send_response(message.sender_id, dict(step))


def form(body: Optional[str] = "hello", sid: Optional[str] = None, **extra: str) -> Dict[str, str]:
    fields = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "From": PATIENT,
        "To": CLINIC_NUMBER,
        "NumMedia": "0",
        **extra,
    }
    if body is not None:
        fields["Body"] = body
    return fields


def sign(fields: Dict[str, str], url: str = PUBLIC_URL, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, fields)


def texts_of(xml: str) -> List[str]:
    return [m.text or "" for m in ET.fromstring(xml).findall("Message")] if xml else []


def channel(timeout: float = 5.0, **kwargs: Any) -> SmsInput:
    settings: Dict[str, Any] = {"auth_token": AUTH_TOKEN, "webhook_url": PUBLIC_URL}
    settings.update(kwargs)
    return SmsInput(reply_timeout=timeout, **settings)


async def post(
    sms: SmsInput,
    assistant: Assistant,
    fields: Dict[str, str],
    signature: Optional[str] = "sign",
) -> Tuple[int, List[str]]:
    if signature == "sign":
        signature = sign(fields)
    status, xml = await sms.handle(assistant, fields, signature, LOCAL_URL)
    return status, texts_of(xml)


async def settle(sms: SmsInput, seconds: float = 10.0) -> None:
    """Wait until the channel's background work (late replies) is done."""
    deadline = time.monotonic() + seconds
    while sms._tasks and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not sms._tasks


def exchange(
    sms: SmsInput, assistant: Assistant, *bodies: Optional[str]
) -> List[Tuple[int, List[str]]]:
    """Send each body in turn (signed), then let background work finish."""

    async def run() -> List[Tuple[int, List[str]]]:
        answers = [await post(sms, assistant, form(body)) for body in bodies]
        await settle(sms)
        return answers

    return asyncio.run(run())


def db_rows(table: str) -> List[tuple]:
    """The rows of one of the assistant's tables, on whichever database it is."""
    from bot.store import get_store

    store = get_store()
    if not store.has_table(table):
        return []
    return [tuple(row) for row in store.db.execute(f"select * from {table}").fetchall()]


# -- answering ---------------------------------------------------------------------


def test_a_question_is_answered_in_twiml_by_the_sms_named_conversation():
    assistant = Assistant({"how do I use ice packs?": [{"text": "Ice: 15 minutes on."}]})
    fields = form("how do I use ice packs?")
    status, texts = asyncio.run(post(channel(), assistant, fields))
    assert (status, texts) == (200, ["Ice: 15 minutes on."])
    [message] = assistant.received
    assert message.sender_id == f"sms:{PATIENT}"
    assert message.input_channel == "sms" and message.output_channel.name() == "sms"
    assert message.message_id == fields["MessageSid"]


def test_several_bot_messages_become_one_text_normalised_to_gsm7():
    assistant = Assistant(
        {"hi": [{"text": "Hello \U0001f44b"}, {"text": "It\u2019s me \u2014 ask."}]}
    )
    [(_, texts)] = exchange(channel(), assistant, "hi")
    assert texts == ["Hello\n\nIt's me - ask."]


def test_a_leading_slash_is_text_not_a_command():
    assistant = Assistant()
    [(status, _)] = exchange(channel(), assistant, "/restart my mom is confused")
    assert status == 200 and assistant.texts == ["restart my mom is confused"]


def test_a_command_alone_gets_the_kind_answer_and_leaves_the_conversation_alone():
    assistant = Assistant()
    [(status, texts)] = exchange(channel(), assistant, '/restart{"x": 1}')
    assert status == 200 and texts == [replies.unusable_message()]
    assert not assistant.received


@pytest.mark.parametrize("body", ["", "   ", "\U0001f600\U0001f44d"])
def test_no_words_get_the_kind_answer_and_leave_the_conversation_alone(body):
    assistant = Assistant()
    [(status, texts)] = exchange(channel(), assistant, body)
    assert status == 200 and texts == [replies.unusable_message()]
    assert not assistant.received


def test_a_very_long_message_is_read_in_part_and_says_so():
    assistant = Assistant()
    [(_, texts)] = exchange(channel(), assistant, "my back is sore " * 200)
    assert len(assistant.texts[0]) <= 2000
    assert replies.truncated_note() in "\n\n".join(texts)


def test_a_picture_without_words_gets_the_pictures_answer():
    assistant = Assistant()

    async def run() -> Tuple[int, List[str]]:
        return await post(channel(), assistant, form("", NumMedia="1", MediaUrl0="https://x/y"))

    status, texts = asyncio.run(run())
    assert status == 200 and texts == [replies.sms_media()]
    assert get_settings().clinic_phone in texts[0] and not assistant.received


def test_a_picture_with_words_gets_the_words_answered():
    assistant = Assistant()
    status, texts = asyncio.run(
        post(channel(), assistant, form("is this swelling ok", NumMedia="1"))
    )
    assert texts == ["Answer: is this swelling ok"]


def test_a_sender_that_is_not_a_phone_number_is_ignored():
    assistant = Assistant()
    status, texts = asyncio.run(post(channel(), assistant, form(From="whatsapp:+15555550123")))
    assert (status, texts) == (200, []) and not assistant.received


def test_the_assistant_failing_gets_an_apology_with_the_phone_number():
    assistant = Assistant({"hello": [RuntimeError("boom")]})
    [(_, texts)] = exchange(channel(), assistant, "hello")
    assert texts == [replies.sms_trouble()]


# -- signatures --------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "not-a-signature",
        "wrong-token",
        "local-url",
        "tampered",
    ],
)
def test_unsigned_or_wrongly_signed_webhooks_get_403_and_nothing_is_stored(signature):
    fields = form("my legs are numb")
    if signature == "wrong-token":
        signature = sign(fields, token="someone-else")
    elif signature == "local-url":
        signature = sign(fields, url=LOCAL_URL)
    elif signature == "tampered":
        signature = sign(fields)
        fields = {**fields, "Body": "something else"}
    assistant = Assistant()
    status, texts = asyncio.run(post(channel(), assistant, fields, signature))
    assert (status, texts) == (403, [])
    assert not assistant.received
    assert db_rows("sms_messages") == [] and db_rows("sms_opt_outs") == []


def resplit(fields: Dict[str, str], key: str, into: str) -> Dict[str, str]:
    """The same signed string with `into`'s key and value glued onto `key`'s value
    (Twilio joins keys and values without separators, sorted by key)."""
    out = {k: v for k, v in fields.items() if k != into}
    out[key] = fields[key] + into + fields[into]
    return out


def test_a_replay_with_its_fields_re_split_keeps_the_signature_but_runs_nothing():
    assistant = Assistant({"my legs are numb": [URGENT, TOLD]})
    sms = channel()
    fields = form("my legs are numb")
    signature = sign(fields)
    replay = resplit(fields, "MessageSid", "NumMedia")
    assert replay["MessageSid"] == fields["MessageSid"] + "NumMedia0"
    assert RequestValidator(AUTH_TOKEN).validate(PUBLIC_URL, replay, signature)

    async def run() -> List[Tuple[int, str]]:
        first = await sms.handle(assistant, fields, signature, LOCAL_URL)
        again = await sms.handle(assistant, replay, signature, LOCAL_URL)
        return [first, again]

    first, again = asyncio.run(run())
    assert first[0] == 200 and texts_of(first[1]) == [URGENT["text"] + "\n\n" + TOLD["text"]]
    assert again[0] == 400 and "<Message>" not in again[1]
    assert len(assistant.received) == 1  # no second turn, so no second escalation
    assert [row[0] for row in db_rows("sms_messages")] == [fields["MessageSid"]]


@pytest.mark.parametrize(
    "change",
    [
        {"MessageSid": "SM123"},
        {"MessageSid": "SM" + "0" * 32 + "x"},
        {"MessageSid": "XX" + "0" * 32},
        {"MessageSid": "SM" + "G" * 32},
        {"MessageSid": None},
        {"AccountSid": None},
        {"AccountSid": "AC12"},
        {"From": None},
        {"To": None},
        {"Body": None},
        {"NumMedia": None},
        {"NumMedia": "one"},
        {"SmsSid": "SM" + "f" * 32},
    ],
)
def test_a_signed_webhook_not_shaped_as_twilio_sends_it_gets_400_and_nothing_is_stored(change):
    fields = {k: v for k, v in form("my legs are numb").items() if change.get(k, "") is not None}
    fields.update({k: v for k, v in change.items() if v is not None})
    assistant = Assistant()
    status, texts = asyncio.run(post(channel(), assistant, fields))
    assert (status, texts) == (400, [])
    assert not assistant.received
    assert db_rows("sms_messages") == [] and db_rows("sms_opt_outs") == []


def test_an_mms_sid_and_twilios_copies_of_the_sid_are_accepted():
    sid = "MM" + uuid.uuid4().hex
    fields = form("is this swelling ok", sid=sid, NumMedia="1", SmsSid=sid, SmsMessageSid=sid)
    status, texts = asyncio.run(post(channel(), Assistant(), fields))
    assert (status, texts) == (200, ["Answer: is this swelling ok"])


def test_a_stop_without_a_signature_opts_nobody_out():
    status, _ = asyncio.run(post(channel(), Assistant(), form("STOP"), None))
    assert status == 403 and not get_sms_store().is_opted_out(PATIENT)


def test_a_blank_body_is_kept_so_a_picture_without_words_still_validates():
    fields = form("", NumMedia="1", MediaUrl0="https://api.example.test/m/1.jpg")
    parsed = parse_form(urlencode(fields).encode(), "application/x-www-form-urlencoded")
    assert parsed["Body"] == [""] and parsed.getlist("NumMedia") == ["1"]
    sms = channel()
    assert sms.verified(parsed, sign(fields), LOCAL_URL)
    status, xml = asyncio.run(sms.handle(Assistant(), parsed, sign(fields), LOCAL_URL))
    assert status == 200 and texts_of(xml) == [replies.sms_media()]


def test_a_body_that_is_not_a_form_has_no_fields():
    assert parse_form(b'{"Body": "hi"}', "application/json") == {}
    assert parse_form(b"\xff\xfe", "application/x-www-form-urlencoded") == {}
    assert parse_form(b"Body=hi", None) == {}


def test_the_signature_covers_a_query_string_on_the_public_url():
    fields = form("hello")
    signature = sign(fields, url=PUBLIC_URL + "?clinic=main")

    async def run() -> Tuple[int, str]:
        return await channel().handle(Assistant(), fields, signature, LOCAL_URL, "clinic=main")

    assert asyncio.run(run())[0] == 200


def test_without_a_public_url_the_servers_own_url_is_checked():
    fields = form("hello")
    sms = channel(webhook_url=None)
    status, _ = asyncio.run(sms.handle(Assistant(), fields, sign(fields, url=LOCAL_URL), LOCAL_URL))
    assert status == 200


def test_without_an_auth_token_every_webhook_is_refused_and_the_log_says_so(caplog):
    caplog.set_level(logging.WARNING)
    sms = channel(auth_token="")
    fields = form("hello")
    assert asyncio.run(post(sms, Assistant(), fields))[0] == 403
    assert "TWILIO_AUTH_TOKEN is not set" in caplog.text


def test_the_development_switch_skips_the_check_loudly(caplog):
    caplog.set_level(logging.WARNING)
    sms = channel(auth_token="", skip_signature_check=True)
    assert "SMS_SKIP_SIGNATURE_CHECK is on" in caplog.text
    caplog.clear()
    assistant = Assistant()
    status, texts = asyncio.run(post(sms, assistant, form("hello"), None))
    assert status == 200 and texts == ["Answer: hello"]
    assert "WITHOUT a signature check" in caplog.text


def test_the_channel_reads_its_settings_from_credentials_and_environment(monkeypatch):
    monkeypatch.setenv("SMS_REPLY_TIMEOUT_SECONDS", "4")
    get_settings.cache_clear()
    sms = SmsInput.from_credentials({"auth_token": "t", "webhook_url": PUBLIC_URL})
    assert (sms.auth_token, sms.webhook_url, sms.reply_timeout) == ("t", PUBLIC_URL, 4.0)
    assert not sms.skip_signature_check
    assert SmsInput.name() == "sms"


# -- keywords ----------------------------------------------------------------------


def test_stop_confirms_once_then_nothing_is_sent_until_start(fake_twilio):
    assistant = Assistant()
    sms = channel()
    answers = exchange(sms, assistant, "STOP", "stop", "how long will I be sore?", "HELP")
    assert answers[0][1] == [replies.sms_opted_out()]
    assert [texts for _, texts in answers[1:]] == [[], [], []]
    assert assistant.texts == ["how long will I be sore?"]  # still heard, not answered
    assert not fake_twilio.sent
    answers = exchange(sms, assistant, "Start", "how long will I be sore?")
    assert answers[0][1] == [replies.sms_opted_in()]
    assert answers[1][1] == ["Answer: how long will I be sore?"]


@pytest.mark.parametrize("word", ["STOPALL", "unsubscribe", "Cancel", "END", "quit"])
def test_every_opt_out_word_opts_out(word):
    [(_, texts)] = exchange(channel(), Assistant(), word)
    assert texts == [replies.sms_opted_out()]
    assert get_sms_store().is_opted_out(PATIENT)


@pytest.mark.parametrize(
    "text",
    [
        "Quit texting me!",
        "please take me off this list",
        "unsubscribe me",
        "no more messages pls",
        "I don't want these texts anymore",
        "stop sending me messages",
        "please remove my number",
        "i no longer want text messages",
        "do not text me again",
        "cancel the texts",
        "i'd like to stop getting these",
    ],
)
def test_an_opt_out_in_plain_words_is_honoured_as_stop(text):
    assistant = Assistant()
    [(_, texts)] = exchange(channel(), assistant, text)
    assert texts == [replies.sms_opted_out()]
    assert get_sms_store().is_opted_out(PATIENT)
    assert assistant.texts == []  # not answered with an unrelated offer


@pytest.mark.parametrize(
    "text",
    [
        "how do I opt out of these texts?",
        "too many texts",
        "stop it",
        "enough texts please",
        "this is not my phone",
    ],
)
def test_a_message_that_may_be_an_opt_out_is_asked_about(text):
    assistant = Assistant()
    [(_, texts)] = exchange(channel(), assistant, text)
    assert texts == [replies.sms_opt_out_ask()] and "Reply STOP" in texts[0]
    assert not get_sms_store().is_opted_out(PATIENT)


@pytest.mark.parametrize(
    "text",
    [
        "stop texting me, my legs are numb",
        "when can I stop wearing the brace?",
        "the pain won't stop",
        "I texted stop by accident, how do I get the reminders back?",
    ],
)
def test_a_symptom_or_another_question_is_not_an_opt_out(text):
    assistant = Assistant()
    exchange(channel(), assistant, text)
    assert assistant.texts == [text]
    assert not get_sms_store().is_opted_out(PATIENT)


@pytest.mark.parametrize("word", ["UNSTOP", "yes"])
def test_unstop_and_yes_opt_back_in(word):
    answers = exchange(channel(), Assistant(), "STOP", word)
    assert answers[1][1] == [replies.sms_opted_in()]
    assert not get_sms_store().is_opted_out(PATIENT)


def test_yes_is_an_answer_to_the_assistant_when_not_opted_out():
    assistant = Assistant()
    exchange(channel(), assistant, "YES")
    assert assistant.texts == ["YES"]


def test_help_names_the_clinic_its_phone_and_how_to_opt_out():
    [(_, [text])] = exchange(channel(), Assistant(), "help")
    s = get_settings()
    assert s.clinic_name in text and s.clinic_phone in text and "STOP" in text


def test_a_warning_sign_from_an_opted_out_number_reaches_the_assistant_unanswered():
    assistant = Assistant({"my legs are numb": [URGENT, TOLD]})
    answers = exchange(channel(), assistant, "STOP", "my legs are numb")
    assert answers[1] == (200, [])
    assert assistant.texts == ["my legs are numb"]


# -- repeated deliveries -----------------------------------------------------------


def test_the_same_message_sid_twice_is_answered_the_same_and_runs_once():
    assistant = Assistant({"my legs are numb": [URGENT, TOLD]})
    sms = channel()
    fields = form("my legs are numb")

    async def run() -> List[Tuple[int, List[str]]]:
        return [await post(sms, assistant, fields), await post(sms, assistant, fields)]

    first, second = asyncio.run(run())
    assert first == second and first[1]
    assert len(assistant.received) == 1


def test_a_repeat_while_the_first_is_still_being_answered_waits_for_its_answer():
    assistant = Assistant({"slow": [HANG, {"text": "Done."}]}, hang=0.5)
    sms = channel()
    fields = form("slow")

    async def run() -> List[Tuple[int, List[str]]]:
        return list(
            await asyncio.gather(post(sms, assistant, fields), post(sms, assistant, fields))
        )

    first, second = asyncio.run(run())
    assert first == second == (200, ["Done."])
    assert len(assistant.received) == 1


def test_a_repeat_after_an_opt_out_gets_nothing():
    sms = channel()
    fields = form("hello")

    async def run() -> List[Tuple[int, List[str]]]:
        first = await post(sms, Assistant(), fields)
        await post(sms, Assistant(), form("STOP"))
        return [first, await post(sms, Assistant(), fields)]

    first, again = asyncio.run(run())
    assert first[1] == ["Answer: hello"] and again == (200, [])


# -- numbered choices --------------------------------------------------------------


def test_numbered_choices_round_trip_once():
    assistant = Assistant({"menu": [MENU]})
    sms = channel()
    answers = exchange(sms, assistant, "menu", "2", "2")
    assert answers[0][1] == ["Pick a topic.\nReply 1 for Ice packs, 2 for Pain medicine."]
    assert assistant.texts == ["menu", "What pain medicine can I take?", "2"]
    assert "payload" not in str(answers) and "/" not in answers[0][1][0]


def test_a_number_with_no_choice_pending_is_plain_text():
    assistant = Assistant({"menu": [MENU]})
    exchange(channel(), assistant, "menu", "7")
    assert assistant.texts == ["menu", "7"]


# -- slow answers ------------------------------------------------------------------


def test_a_slow_red_flag_answer_gives_the_advice_now_and_the_rest_by_text(fake_twilio):
    assistant = Assistant({"my legs went numb this morning": [URGENT, HANG, TOLD]}, hang=1.0)
    sms = channel(timeout=0.3)
    started = time.monotonic()
    [(status, texts)] = exchange(sms, assistant, "my legs went numb this morning")
    assert status == 200 and texts == [URGENT["text"]]
    assert time.monotonic() - started < 5
    [late] = fake_twilio.sent
    assert (late.to, late.from_, late.body) == (PATIENT, CLINIC_NUMBER, TOLD["text"])
    assert late.account == ACCOUNT_SID and late.password == AUTH_TOKEN


def test_when_nothing_is_ready_a_red_flag_still_gets_its_advice_at_once(fake_twilio):
    assistant = Assistant({"I have chest pain right now": [HANG, URGENT, TOLD]}, hang=1.0)
    sms = channel(timeout=0.3)

    async def run() -> Tuple[float, Tuple[int, List[str]]]:
        started = time.monotonic()
        answer = await post(sms, assistant, form("I have chest pain right now"))
        elapsed = time.monotonic() - started
        await settle(sms)
        return elapsed, answer

    elapsed, (_, texts) = asyncio.run(run())
    assert elapsed < 1.0
    assert texts == [replies.red_flag_advice("emergency")] and "Call 911 now" in texts[0]
    # the conversation's own (urgent) advice and confirmation follow
    assert [m.body for m in fake_twilio.sent] == [URGENT["text"] + "\n\n" + TOLD["text"]]


def test_the_same_advice_is_not_sent_twice(fake_twilio):
    assistant = Assistant({"my legs went numb this morning": [HANG, URGENT, TOLD]}, hang=1.0)
    [(_, texts)] = exchange(channel(timeout=0.3), assistant, "my legs went numb this morning")
    assert texts == [replies.red_flag_advice("urgent")]
    assert [m.body for m in fake_twilio.sent] == [TOLD["text"]]


def test_a_slow_ordinary_answer_says_it_is_coming_then_comes(fake_twilio):
    assistant = Assistant({"how long is the procedure?": [HANG, {"text": "About an hour."}]})
    [(_, texts)] = exchange(channel(timeout=0.3), assistant, "how long is the procedure?")
    assert texts == [replies.sms_still_working()]
    assert [m.body for m in fake_twilio.sent] == ["About an hour."]


def test_a_late_answer_is_not_sent_to_a_number_that_opted_out_meanwhile(fake_twilio):
    assistant = Assistant({"slow question": [HANG, {"text": "Late."}]}, hang=1.0)
    sms = channel(timeout=0.2)

    async def run() -> None:
        await post(sms, assistant, form("slow question"))
        await post(sms, assistant, form("STOP"))
        await settle(sms)

    asyncio.run(run())
    assert fake_twilio.sent == []


def test_a_late_answer_that_cannot_be_sent_is_logged_without_the_number(caplog):
    caplog.set_level(logging.INFO)
    assistant = Assistant({"slow question": [HANG, {"text": "Late."}]}, hang=0.5)
    exchange(channel(timeout=0.2), assistant, "slow question")
    assert "late SMS answer to +1******0123 not sent" in caplog.text
    assert PATIENT not in caplog.text


# -- logs --------------------------------------------------------------------------


def test_logs_hold_neither_message_text_nor_whole_numbers(caplog):
    caplog.set_level(logging.DEBUG, logger="bot")
    exchange(channel(), Assistant({"menu": [MENU]}), "zebra-canary-7731 my back", "menu", "STOP")
    assert "zebra-canary-7731" not in caplog.text and PATIENT not in caplog.text
    assert "+1******0123" in caplog.text
