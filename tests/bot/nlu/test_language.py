import pytest

from bot.nlu.language import is_other_language

OTHER = [
    "hola tengo dolor de espalda",
    "¿Cuánto dura la recuperación?",
    "我的背很痛",
    "tôi bị đau lưng sau khi mổ",
    "Ich habe Schmerzen im Rücken",
    "ako po ay may masakit sa likod",
    "Bonjour, est-ce que je peux prendre une douche?",
    "Болит спина после операции",
    "허리가 아파요",
    "gracias",
]
ENGLISH = [
    "how long does the cement last",
    "no numbness just sore",
    "my son has pain in his back",
    "can i take tylenol",
    "ma is sore after her kypho",
    "thanks, la la land was on tv",
    "is it normal to feel tired",
    "ok",
    "kyphoplasty",
]


@pytest.mark.parametrize("text", OTHER)
def test_other_languages_are_recognised(text):
    assert is_other_language(text)


@pytest.mark.parametrize("text", ENGLISH)
def test_english_is_not_flagged(text):
    assert not is_other_language(text)
