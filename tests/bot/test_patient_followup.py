"""The patient's follow-up text: one text through a fake Twilio API when nobody has
acknowledged an SMS patient's warning sign in time, none when someone has."""

from datetime import timedelta

import pytest

from bot import alerts, audit, clock, notify
from bot.escalations import Turn, record
from bot.patient_followup import follow_up
from bot.replies import patient_still_trying
from bot.settings import get_settings
from bot.store import get_store
from tests.support.fake_twilio import FakeTwilio
from tests.support.sms import ACCOUNT_SID, AUTH_TOKEN, CLINIC_NUMBER

PATIENT = "+15555550142"


@pytest.fixture
def twilio(monkeypatch):
    api = FakeTwilio().start()
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", CLINIC_NUMBER)
    monkeypatch.setenv("TWILIO_API_BASE", api.url)
    monkeypatch.setenv("NOTIFY_RETRY_BASE_SECONDS", "0")
    get_settings.cache_clear()
    yield api
    api.stop()


def report(sender=f"sms:{PATIENT}", channel="sms", tier="urgent"):
    turn = Turn(sender, channel, tier, ["numbness"], "legs numb", clock.now().timestamp())
    return record(get_store(), get_settings(), turn, source="action").escalation_id


def later(minutes):
    return clock.now() + timedelta(minutes=minutes)


def test_an_unacknowledged_sms_alert_texts_the_patient_once(twilio):
    store, settings = get_store(), get_settings()
    escalation_id = report()
    assert follow_up(store, settings, later(settings.patient_followup_minutes - 1)) == 0
    moment = later(settings.patient_followup_minutes + 1)
    assert follow_up(store, settings, moment) == 1
    assert follow_up(store, settings, moment) == 0
    assert notify.deliver_due(store, settings, now=moment)["sent"] == 1
    [text] = twilio.to(PATIENT)
    assert text.body == patient_still_trying() and get_settings().after_hours_phone in text.body
    assert [a["notifier"] for a in alerts.attempts(store, escalation_id)] == ["patient_sms"]
    assert audit.rows(store, escalation_id)[-1]["action"] == "patient texted: still trying"


def test_no_message_once_acknowledged_and_no_text_for_a_web_chat(twilio):
    store, settings = get_store(), get_settings()
    alerts.acknowledge(store, report(), "ana")
    web = report(sender="web:abc", channel="web")
    report(sender="rest:abc", channel="rest")  # nothing can reach a REST client later
    assert follow_up(store, settings, later(settings.patient_followup_minutes * 2)) == 1
    assert [a["notifier"] for a in alerts.attempts(store, web)] == ["patient_web"]
    assert audit.rows(store, web)[-1]["action"] == "patient messaged in the web chat: still trying"
    assert twilio.sent == []
