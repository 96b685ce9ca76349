from bot.text import MAX_CHARS, clean_incoming


def test_plain_text_passes_through_tidied():
    got = clean_incoming("  how long   do I ice it?\n")
    assert got.text == "how long do I ice it?"
    assert got.usable and not got.truncated


def test_leading_slash_is_text_not_an_intent():
    assert clean_incoming("/ my back hurts").text == "my back hurts"
    assert clean_incoming("/restart my mom is confused").text == "restart my mom is confused"


def test_a_command_alone_is_unusable_and_never_an_intent():
    for command in ("/restart", '/report_symptom{"topic": "x"}', " //faq", "\uff0fgreet"):
        assert clean_incoming(command) == clean_incoming("")


def test_slash_alone_is_unusable():
    assert not clean_incoming("/").usable


def test_empty_none_and_non_text_are_unusable():
    for raw in ("", "   ", None, 42, {"a": 1}, ["x"]):
        got = clean_incoming(raw)
        assert not got.usable and got.text == ""


def test_binary_control_bytes_are_removed():
    got = clean_incoming("\x00\x01ice\x02 packs\x7f")
    assert got.text == "ice packs"
    assert not clean_incoming("\x00\x01\x02\x1b").usable


def test_emoji_only_is_unusable_but_emoji_with_words_is_kept():
    assert not clean_incoming("\U0001f622\U0001f622").usable
    assert clean_incoming("sore \U0001f622").usable


def test_markup_is_stripped_to_its_words():
    assert clean_incoming("<b>ice</b> packs").text == "ice packs"
    assert not clean_incoming("<script>alert(1)</script>").usable
    assert clean_incoming("<img src=x onerror=alert(1)>help").text == "help"
    assert clean_incoming("fever &gt; 101").text == "fever > 101"


def test_huge_message_is_cut_at_a_word_and_marked():
    got = clean_incoming("pain " * 2000)
    assert got.truncated and got.usable
    assert len(got.text) <= MAX_CHARS
    assert got.text.endswith("pain")


def test_other_scripts_are_kept_for_the_language_check():
    assert clean_incoming("我的背很痛").text == "我的背很痛"
