import xml.etree.ElementTree as ET

import pytest

from bot.channels.sms_format import (
    HARD_LIMIT,
    HELP,
    OPT_IN,
    OPT_OUT,
    SOFT_LIMIT,
    Choice,
    choice_number,
    choices_line,
    e164,
    gsm7_length,
    is_gsm7,
    keyword,
    mask,
    pack,
    render,
    scrub,
    segments,
    to_gsm7,
    twiml,
)

# -- GSM-7 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("It\u2019s \u201cfine\u201d", 'It\'s "fine"'),
        ("2\u20133 days \u2014 maybe", "2-3 days - maybe"),
        ("\u2022 Rest\n\u2022 Ice", "- Rest\n- Ice"),
        ("Wait\u2026", "Wait..."),
        ("Feel better \U0001f60a!", "Feel better!"),
        ("Thumbs \U0001f44d\U0001f3fd up", "Thumbs up"),
        ("a\u00a0b\u2009c", "a b c"),
        ("na\u00efve r\u00f4le", "naive role"),
        ("\u00bd dose, 38.3\u00b0C", "1/2 dose, 38.3C"),
    ],
)
def test_characters_that_force_ucs2_are_replaced(text, plain):
    assert to_gsm7(text) == plain
    assert is_gsm7(to_gsm7(text))


def test_gsm7_letters_and_the_extension_table_are_kept():
    text = "Caf\u00e9 \u00e0 10 \u20ac [note] {x} ~ | ^ \\ @ \u00a3 \u00f1 \u00fc \u00c9"
    assert to_gsm7(text) == text
    assert gsm7_length("\u20ac[]") == 6 and gsm7_length("abc") == 3


def test_segments_are_counted_as_carriers_count_them():
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 306) == 2
    assert segments("a" * 307) == 3
    assert segments("\u20ac" * 80) == 1 and segments("\u20ac" * 81) == 2
    assert segments("\U0001f600" + "a" * 68) == 1 and segments("\u2019" + "a" * 70) == 2


# -- joining and length ------------------------------------------------------------


def test_short_messages_are_joined_into_one_text():
    assert pack(["Hello.", "How can I help?"]) == ["Hello.\n\nHow can I help?"]


def test_messages_that_do_not_fit_together_stay_apart_in_order():
    a, b, c = "a" * 200, "b" * 150, "c" * 100
    assert pack([a, b, c]) == [a, b + "\n\n" + c]
    assert all(gsm7_length(t) <= SOFT_LIMIT for t in pack([a, b, c]))


def test_a_long_message_goes_alone_and_is_cut_at_sentences_to_the_hard_limit():
    sentence = "This sentence is about forty characters."
    long_text = " ".join([sentence] * 100)
    texts = pack(["Short first.", long_text, "Short last."])
    assert texts[0] == "Short first." and texts[-1] == "Short last."
    middle = texts[1:-1]
    assert len(middle) == 3
    assert all(gsm7_length(t) <= HARD_LIMIT and t.endswith(sentence) for t in middle)
    assert " ".join(middle) == long_text


def test_a_single_huge_word_is_cut_to_fit():
    texts = pack(["x" * 4000])
    assert [len(t) for t in texts] == [1600, 1600, 800]


def test_empty_and_emoji_only_parts_are_dropped():
    assert pack(["", "  ", "\U0001f600", "Hi"]) == ["Hi"]
    assert pack([]) == []


def test_joined_texts_are_normalised():
    assert pack(["It\u2019s OK \u2014 rest."]) == ["It's OK - rest."]


# -- numbered choices --------------------------------------------------------------


BUTTONS = [
    {"title": "Ice packs", "payload": "How should I use ice packs?"},
    {"title": "Pain medicine", "payload": "What pain medicine can I take?"},
]


def test_buttons_become_numbered_choices_without_payloads():
    rendered = render([{"text": "Pick a topic.", "buttons": BUTTONS, "utter_action": "utter_x"}])
    assert rendered.parts == ["Pick a topic.\nReply 1 for Ice packs, 2 for Pain medicine."]
    assert rendered.choices == [
        Choice(1, "Ice packs", "How should I use ice packs?"),
        Choice(2, "Pain medicine", "What pain medicine can I take?"),
    ]
    assert "?" not in rendered.parts[0].split("\n")[1]
    assert "utter_" not in rendered.parts[0]


def test_numbers_continue_across_messages_and_quick_replies_count_too():
    rendered = render(
        [
            {"text": "First.", "buttons": BUTTONS[:1]},
            {"text": "Second.", "quick_replies": BUTTONS[1:]},
        ]
    )
    assert rendered.parts == [
        "First.\nReply 1 for Ice packs.",
        "Second.\nReply 2 for Pain medicine.",
    ]
    assert [c.number for c in rendered.choices] == [1, 2]


def test_intent_payloads_never_reach_the_patient_or_the_assistant():
    rendered = render(
        [{"text": "Are you having this now?", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]
    )
    assert "/affirm" not in rendered.parts[0] and "affirm" not in rendered.parts[0]
    assert rendered.choices == [Choice(1, "Yes", "Yes")]


def test_images_and_custom_json_are_not_sent():
    rendered = render([{"image": "https://x/y.png"}, {"custom": {"a": 1}}, {"text": "Hi"}])
    assert rendered.parts == ["Hi"]


def test_titles_are_tidy():
    assert choices_line([Choice(1, "What is kyphoplasty", "x")]) == (
        "Reply 1 for What is kyphoplasty."
    )
    rendered = render([{"buttons": [{"title": "What is kyphoplasty?", "payload": "q"}]}])
    assert rendered.parts == ["Reply 1 for What is kyphoplasty."]


@pytest.mark.parametrize(
    ("text", "number"),
    [("1", 1), (" 2 ", 2), ("2.", 2), ("#3", 3), ("12", 12), ("1 2", None), ("one", None)],
)
def test_a_reply_that_is_only_a_number_picks_a_choice(text, number):
    assert choice_number(text) == number


# -- keywords ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "word", ["STOP", "stop", "Stop.", " StopAll ", "UNSUBSCRIBE", "cancel", "END", "quit"]
)
def test_opt_out_words(word):
    assert keyword(word)[0] == OPT_OUT


@pytest.mark.parametrize("word", ["START", "unstop", "Yes", "YES!"])
def test_opt_in_words(word):
    assert keyword(word)[0] == OPT_IN


@pytest.mark.parametrize("word", ["HELP", "help", "Info"])
def test_help_words(word):
    assert keyword(word)[0] == HELP


@pytest.mark.parametrize(
    "text", ["stop the pain", "please stop", "yes it hurts", "help me", "", None, "end?"]
)
def test_words_inside_a_message_are_not_keywords(text):
    assert keyword(text) == (None, "")


# -- numbers and markup --------------------------------------------------------------


def test_senders_are_normalised_to_e164():
    assert e164("+15555550123") == "+15555550123"
    assert e164("+44 20 7946 0958") == "+442079460958"
    assert e164("(555) 555-0123") == "+15555550123"
    assert e164("whatsapp:+15555550123") is None
    assert e164("CLINIC") is None and e164("") is None and e164(None) is None


def test_numbers_are_masked_for_logs():
    assert mask("+15555550123") == "+1******0123"
    assert scrub("To +15555550123 failed") == "To +1******0123 failed"


def test_twiml_escapes_text_and_holds_one_message_per_text():
    xml = twiml(["a < b & c", 'say "hi"'])
    root = ET.fromstring(xml)
    assert root.tag == "Response"
    assert [m.text for m in root.findall("Message")] == ["a < b & c", 'say "hi"']
    assert ET.fromstring(twiml([])).findall("Message") == []


def test_joined_texts_stay_within_two_segments():
    texts = pack(["a" * 150, "b" * 150, "c" * 160, "d" * 150])
    assert texts == ["a" * 150 + "\n\n" + "b" * 150, "c" * 160, "d" * 150]
    assert SOFT_LIMIT == 306 and all(segments(t) <= 2 for t in texts)
