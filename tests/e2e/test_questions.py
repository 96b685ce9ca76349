"""One question per topic over HTTP to the real servers; each answer states the key fact."""

from __future__ import annotations

import re
import uuid

import pytest

from bot.settings import get_settings

pytestmark = [pytest.mark.e2e, pytest.mark.model]

# (question in a patient's words, patterns that must all appear in the answer)
TOPICS = [
    ("what is vertebroplasty", [r"cement"]),
    ("what's kyphoplasty", [r"balloon"]),
    ("whats the difference between the two procedures", [r"balloon"]),
    ("what is a compression fracture", [r"osteoporosis|thin|weak"]),
    ("who can get this procedure", [r"osteoporosis"]),
    ("is it too late if i broke it 3 months ago", [r"8 weeks|eight weeks"]),
    ("who does the procedure", [r"radiologist"]),
    ("what happens during the procedure", [r"face down|on your stomach", r"x-ray"]),
    ("will i be put to sleep", [r"sedation", r"general"]),
    ("how long does the procedure take", [r"hour"]),
    ("do i need an mri before", [r"MRI", r"bone scan"]),
    ("how do i get ready for it", [r"driv"]),
    ("can i drive myself home", [r"drive"]),
    ("how long will i be at the hospital that day", [r"3 to 4 hours|3-4 hours|three to four"]),
    ("can i bring my grandkids with me", [r"child|kid"]),
    ("will i go home the same day", [r"same day", r"overnight|night"]),
    ("how sore will i be after", [r"2 to 3 days|2-3 days|few days"]),
    ("how do i use ice packs", [r"15 minutes", r"cloth|towel"]),
    ("what can i take for pain", [r"ibuprofen", r"acetaminophen"]),
    ("can i shower", [r"shower", r"bandage"]),
    ("when can i lift things again", [r"six weeks|6 weeks"]),
    ("when will my pain get better", [r"48 hours|two days|2 days"]),
    ("does it work", [r"9 (in|out of) 10|87|92"]),
    ("what are the risks", [r"infection", r"leak"]),
    ("how long does the cement last", [r"rest of your life|lifetime|life"]),
    ("will someone call me after", [r"two weeks|2 weeks"]),
    ("what warning signs should i watch for", [r"911"]),
    ("how much does it cost", [re.escape(get_settings().clinic_phone)]),
    ("hello", [r"911", r"not a doctor"]),
    ("can i talk to a real person", [re.escape(get_settings().clinic_phone)]),
    ("are you a robot", [r"not a (person|human)|automated|bot"]),
]


def sender() -> str:
    return "e2e-" + uuid.uuid4().hex[:12]


@pytest.mark.parametrize(("question", "facts"), TOPICS, ids=[q for q, _ in TOPICS])
def test_each_topic_states_its_key_fact(client, question, facts):
    answer = client.text(sender(), question)
    for fact in facts:
        assert re.search(fact, answer, re.IGNORECASE), f"{question!r} -> {answer!r}"


def test_follow_up_uses_the_topic_in_context(client):
    me = sender()
    client.text(me, "is it normal to be sore after the procedure")
    assert re.search(r"day", client.text(me, "how long does that last?"), re.IGNORECASE)


def test_and_the_other_procedure(client):
    me = sender()
    client.text(me, "what is vertebroplasty")
    assert "balloon" in client.text(me, "and kyphoplasty?").lower()


def test_fallback_offers_the_main_topics(client):
    messages = client.send(sender(), "purple monkey dishwasher")
    assert any(m.get("buttons") for m in messages)


def test_other_language_gets_a_kind_english_answer(client):
    assert "English" in client.text(sender(), "hola, tengo mucho dolor de espalda")


def test_empty_and_emoji_messages_get_a_kind_answer(client):
    for message in ("", "   ", "\U0001f622", None, "<script>alert(1)</script>"):
        answer = client.text(sender(), message)
        assert "type your question" in answer


def test_slash_message_is_text_not_an_intent(client):
    me = sender()
    client.text(me, "is it normal to be sore after the procedure")
    client.send(me, "/restart")
    client.send(me, '/greet{"topic": "billing"}')
    # had either been run as an intent, the topic would be lost or overwritten
    assert re.search(r"day", client.text(me, "how long does that last?"), re.IGNORECASE)


def test_huge_message_is_answered_with_a_note(client):
    answer = client.text(sender(), "how do i use ice packs " + "please " * 600)
    assert "first part" in answer


def test_rest_rejects_a_bad_sender(client):
    import urllib.error

    for bad in ("../../etc/passwd", "me\n"):
        with pytest.raises(urllib.error.HTTPError) as failure:
            client.send(bad, "hi")
        assert failure.value.code == 400
