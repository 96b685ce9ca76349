"""The REST channel's sender check."""

from __future__ import annotations

import pytest

from bot.channels.rest import SENDER, valid_sender


@pytest.mark.parametrize("sender", ["me", "a.b_c-9", "x" * 64])
def test_plain_senders_are_accepted(sender):
    assert valid_sender(sender)


@pytest.mark.parametrize(
    "sender", ["", "me\n", "me\r\n", "\nme", "x" * 65, "../../etc/passwd", "sms:+1555", None, 7]
)
def test_anything_else_is_refused_a_final_newline_included(sender):
    assert not valid_sender(sender)


def test_the_pattern_itself_refuses_a_final_newline():
    assert SENDER.fullmatch("me\n") is None


def test_a_long_message_is_cut_for_the_answer_and_its_tail_warning_sign_goes_with_it():
    import asyncio

    from rasa.core.channels.channel import UserMessage

    from bot import long_messages, replies
    from bot.channels.rest import RestInput
    from bot.text import MAX_CHARS, RED_FLAG_SCAN

    received = []

    async def assistant(message: UserMessage) -> None:
        received.append(message)

    text = "how long will my back be sore? " * 3300 + "I have chest pain right now."
    try:
        answer = asyncio.run(RestInput()._answer(assistant, "me", text))
    finally:
        long_messages.shutdown()
    [message] = received
    assert len(message.text or "") <= MAX_CHARS and "chest" not in (message.text or "")
    assert message.metadata == {RED_FLAG_SCAN: {"tier": "emergency", "symptoms": ["chest_pain"]}}
    assert answer[-1]["text"] == replies.truncated_note()
