"""The channels' own replies: filled from settings, and equal to the domain where they
repeat a domain response."""

import pytest

from bot import replies
from bot.settings import get_settings


@pytest.mark.parametrize("tier", ["emergency", "urgent"])
def test_red_flag_advice_is_the_domains_sms_advice(domain, tier):
    variants = domain["responses"][f"utter_red_flag_{tier}"]
    [sms] = [v["text"] for v in variants if v.get("channel") == "sms"]
    assert replies.red_flag_advice(tier) == sms.format(**get_settings().response_values())


def test_emergency_advice_says_911_and_urgent_advice_says_call_the_clinic():
    s = get_settings()
    assert "Call 911 now" in replies.red_flag_advice("emergency")
    assert s.clinic_phone in replies.red_flag_advice("urgent")
    assert s.after_hours_phone in replies.red_flag_advice("urgent")


@pytest.mark.parametrize(
    "reply",
    [
        replies.sms_still_working,
        replies.sms_trouble,
        replies.sms_opted_out,
        replies.sms_help,
        replies.sms_media,
    ],
)
def test_sms_replies_give_the_clinics_number_and_fit_one_text(reply):
    text = reply()
    assert get_settings().clinic_phone in text and len(text) <= 320


def test_opting_back_in_says_how_to_stop_again():
    assert "STOP" in replies.sms_opted_in() and "STOP" not in replies.sms_still_working()


def test_replies_follow_the_settings(monkeypatch):
    monkeypatch.setenv("CLINIC_PHONE", "(555) 555-0142")
    get_settings.cache_clear()
    assert "(555) 555-0142" in replies.sms_help()
