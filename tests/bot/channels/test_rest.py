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
