"""The red-flag tier vocabulary: one order, one advice response per tier, both ways."""

from bot import tiers


def test_tiers_are_ordered_most_urgent_first():
    assert tiers.TIER_ORDER == ("emergency", "urgent", "callback")
    assert tiers.RED_FLAG_TIERS == ("emergency", "urgent")
    assert tiers.more_urgent("urgent", "emergency") == "emergency"
    assert tiers.more_urgent("callback", "urgent") == "urgent"
    assert tiers.most_urgent(["urgent", None, "emergency"]) == "emergency"
    assert tiers.most_urgent([None, "unknown"]) is None
    assert tiers.rank(None) > tiers.rank("callback")


def test_each_warning_sign_tier_has_one_advice_response_and_back(domain):
    for tier in tiers.RED_FLAG_TIERS:
        name = tiers.advice_response(tier)
        assert name in domain["responses"]
        assert tiers.advice_tier(name) == tier
    assert tiers.advice_tier("utter_greet") is None and tiers.advice_tier(None) is None


def test_an_unknown_tier_is_treated_as_urgent():
    assert tiers.red_flag_tier("emergency") == "emergency"
    assert tiers.red_flag_tier(None) == "urgent" and tiers.red_flag_tier("bogus") == "urgent"
