from datetime import timedelta

import pytest

from bot.channels.sms_format import Choice
from bot.channels.sms_store import SmsStore
from bot.store import open_store, utcnow

PHONE = "+15555550123"


@pytest.fixture
def sms():
    store = open_store()
    yield SmsStore(store)
    store.close()


def test_opt_out_and_back_in(sms):
    assert not sms.is_opted_out(PHONE) and sms.opted_out_by(PHONE) is None
    assert sms.opt_out(PHONE, "stop", "SM1")
    assert not sms.opt_out(PHONE, "quit", "SM2")
    assert sms.is_opted_out(PHONE) and sms.opted_out_by(PHONE) == "SM1"
    assert sms.opt_in(PHONE) and not sms.opt_in(PHONE)
    assert not sms.is_opted_out(PHONE)


def test_a_message_sid_is_claimed_once_and_keeps_its_answer(sms):
    assert sms.claim("SM1", PHONE)
    assert not sms.claim("SM1", PHONE)
    assert sms.reply_for("SM1") is None
    sms.answered("SM1", ["Hello.", "Bye."])
    assert sms.reply_for("SM1") == ["Hello.", "Bye."]
    sms.answered("SM2", [])
    assert sms.reply_for("SM2") is None and sms.reply_for("SM3") is None


def test_choices_are_replaced_by_each_offer_and_expire_after_an_hour(sms):
    sms.offer(PHONE, [Choice(1, "Ice", "ice?"), Choice(2, "Pain", "pain?")])
    assert sms.take_choice(PHONE, 2) == Choice(2, "Pain", "pain?")
    assert sms.take_choice("+15555550999", 2) is None
    sms.offer(PHONE, [Choice(1, "Yes", "Yes")])
    assert sms.pending_choices(PHONE) == {1: "Yes"}
    assert sms.take_choice(PHONE, 2) is None
    assert sms.take_choice(PHONE, 1, now=utcnow() + timedelta(minutes=61)) is None
    sms.offer(PHONE, [])
    assert sms.pending_choices(PHONE) == {}
