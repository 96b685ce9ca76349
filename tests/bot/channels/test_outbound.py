"""The outbound sender against a fake Twilio API on loopback."""

import asyncio

import pytest

from bot.channels.outbound import OptedOut, OutboundError, configured, send_sms, send_sms_async
from bot.channels.sms_store import get_sms_store
from tests.support.sms import ACCOUNT_SID, AUTH_TOKEN, CLINIC_NUMBER, PATIENT


def test_a_proactive_text_goes_through_twilios_client_to_the_configured_api(fake_twilio):
    [sid] = send_sms(PATIENT, "Time for your check-in \u2014 how are you?")
    assert sid.startswith("SM")
    [sent] = fake_twilio.sent
    assert (sent.account, sent.user, sent.password) == (ACCOUNT_SID, ACCOUNT_SID, AUTH_TOKEN)
    assert (sent.to, sent.from_) == (PATIENT, CLINIC_NUMBER)
    assert sent.body == "Time for your check-in - how are you?"


def test_opted_out_numbers_are_refused_and_nothing_is_sent(fake_twilio):
    get_sms_store().opt_out(PATIENT, "stop")
    with pytest.raises(OptedOut):
        send_sms(PATIENT, "Check-in")
    with pytest.raises(OptedOut):
        asyncio.run(send_sms_async(PATIENT, ["Late answer"]))
    assert fake_twilio.sent == []
    get_sms_store().opt_in(PATIENT)
    send_sms(PATIENT, "Check-in")
    assert len(fake_twilio.sent) == 1


def test_the_async_sender_joins_texts_and_replies_from_the_number_texted(fake_twilio):
    sids = asyncio.run(send_sms_async(PATIENT, ["One.", "Two."], sender="+15555550111"))
    assert len(sids) == 1
    [sent] = fake_twilio.sent
    assert (sent.body, sent.from_) == ("One.\n\nTwo.", "+15555550111")


def test_a_body_over_1600_characters_goes_as_several_texts(fake_twilio):
    sids = send_sms(PATIENT, "Please rest today. " * 120)
    assert len(sids) == 2
    assert all(len(m.body) <= 1600 for m in fake_twilio.sent)


def test_failures_raise_outbound_error(fake_twilio):
    fake_twilio.status = 500
    with pytest.raises(OutboundError):
        send_sms(PATIENT, "hello")
    with pytest.raises(OutboundError):
        asyncio.run(send_sms_async(PATIENT, ["hello"]))
    with pytest.raises(OutboundError):
        send_sms("not a number", "hello")


def test_without_settings_nothing_is_sent():
    assert not configured()
    with pytest.raises(OutboundError, match="TWILIO_ACCOUNT_SID"):
        send_sms(PATIENT, "hello")
