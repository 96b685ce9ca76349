"""SMS end to end: signed Twilio webhooks to the real Rasa server with the SMS channel, the
real action server and worker, and a fake Twilio API for texts sent afterwards."""

from __future__ import annotations

import itertools
import random
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from typing import Any, Dict, Iterator, List, Sequence

import pytest
import sqlalchemy as sa
import yaml
from twilio.request_validator import RequestValidator

from bot import replies
from bot.channels.sms_format import (
    gsm7_length,
    is_gsm7,
    pack,
    render,
    segments,
    to_gsm7,
)
from bot.servers import action_server_command, wait_for
from bot.settings import PROJECT_ROOT, get_settings
from tests.support import profiles
from tests.support.loopback import free_port
from tests.support.servers import (
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM_NUMBER,
    TWILIO_WEBHOOK_URL,
)
from tests.support.slow_proxy import SlowProxy
from tests.support.twilio_webhook import Sms
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.model]

_numbers = itertools.count(random.randint(1000, 8000))


def patient() -> str:
    """A fresh patient number for each test (+1555555xxxx, the fictional range)."""
    return f"+1555555{next(_numbers):04d}"


def sms_variant(name: str) -> str:
    """The merged domain's SMS text of a response, filled with the default settings."""
    from bot.content import domain as merged_domain

    domain = merged_domain()
    [text] = [v["text"] for v in domain["responses"][name] if v.get("channel") == "sms"]
    return to_gsm7(text.format(**get_settings().response_values()))


@pytest.fixture(scope="module")
def sms(servers) -> Sms:
    return Sms(servers.rasa_port)


def query(servers, sql: str, args: Sequence[Any] = ()) -> List[Dict[str, Any]]:
    """Rows on the database the servers run on (the SQLite file, or DATABASE_URL)."""
    try:
        return profiles.query(sql, args, env=servers.env)
    except sa.exc.DBAPIError as error:
        if not profiles.missing_table(error):
            raise
        return []  # a table not created yet


def escalations(servers, phone: str) -> List[Dict[str, Any]]:
    return query(servers, "select * from escalations where sender = ?", [f"sms:{phone}"])


def user_turns(servers, phone: str) -> List[Dict[str, Any]]:
    return query(
        servers,
        "select * from events where sender_id = ? and type_name = 'user'",
        [f"sms:{phone}"],
    )


# -- answers -----------------------------------------------------------------------


def test_a_question_gets_the_sms_answer_in_twiml(sms):
    reply = sms.text(patient(), "how should I use ice packs?")
    assert sms_variant("utter_faq/ice_pack") in reply
    assert "utter_" not in reply and "faq/" not in reply


def test_a_red_flag_gets_the_urgent_answer_and_an_escalation_with_the_number(sms, servers):
    me = patient()
    reply = sms.text(me, "my legs went numb this morning and its getting worse")
    assert sms_variant("utter_red_flag_urgent") in reply
    assert "sent this to the care team" in reply and "phone number should" not in reply
    [row] = escalations(servers, me)
    assert row["tier"] == "urgent" and row["channel"] == "sms"
    assert row["callback_number"] == me and row["status"] == "open"


def test_an_emergency_says_call_911(sms, servers):
    me = patient()
    reply = sms.text(me, "my mom passed out in the bathroom")
    assert "Call 911 now" in reply
    assert escalations(servers, me)[0]["tier"] == "emergency"


@pytest.mark.parametrize("signature", [None, "", "wrong", "unsigned-url"])
def test_a_wrong_or_missing_signature_gets_403_and_nothing_is_stored(sms, servers, signature):
    me = patient()
    fields = sms.fields(me, "my legs went numb this morning and its getting worse")
    if signature == "wrong":
        signature = RequestValidator("not-the-token").compute_signature(TWILIO_WEBHOOK_URL, fields)
    elif signature == "unsigned-url":
        signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(sms.url, fields)
    status, body, _ = sms.post(fields, signature)
    assert status == 403 and "<Message>" not in body
    time.sleep(1)
    assert not escalations(servers, me) and not user_turns(servers, me)
    assert not query(
        servers, "select * from sms_messages where message_sid = ?", [fields["MessageSid"]]
    )


def test_stop_then_a_question_gets_no_reply_and_no_texts(sms, servers, twilio_api, monkeypatch):
    me = patient()
    assert sms.texts(me, "STOP") == [replies.sms_opted_out()]
    assert sms.texts(me, "how should I use ice packs?") == []
    assert sms.texts(me, "stop") == [] and sms.texts(me, "HELP") == []
    # the outbound sender refuses the number too (proactive messages included)
    from bot.channels.outbound import OptedOut, send_sms

    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_BASE"):
        monkeypatch.setenv(name, servers.env[name])
    monkeypatch.setenv("TWILIO_FROM_NUMBER", TWILIO_FROM_NUMBER)
    profiles.use_database_of(servers.env, monkeypatch)  # the opt-out is in the servers' database
    with pytest.raises(OptedOut):
        send_sms(me, "Time for your check-in.")
    assert twilio_api.to(me) == []


def test_start_restores_the_answers(sms):
    me = patient()
    sms.texts(me, "Stop")
    assert sms.texts(me, "START") == [replies.sms_opted_in()]
    assert sms_variant("utter_faq/ice_pack") in sms.text(me, "how should I use ice packs?")


def test_a_red_flag_from_an_opted_out_number_is_escalated_without_a_reply(sms, servers, twilio_api):
    me = patient()
    sms.texts(me, "UNSUBSCRIBE")
    assert sms.texts(me, "i have a fever of 103 and chills") == []
    [row] = wait_until(lambda: escalations(servers, me))
    assert row["tier"] == "urgent" and row["callback_number"] == me
    time.sleep(1)
    assert twilio_api.to(me) == []


def test_help_gives_the_clinic_its_number_and_how_to_stop(sms):
    reply = sms.text(patient(), "help")
    s = get_settings()
    assert s.clinic_name in reply and s.clinic_phone in reply and "STOP" in reply


def test_the_same_message_sid_twice_runs_once(sms, servers):
    me = patient()
    fields = sms.fields(me, "there is pus coming out of my incision")
    first = sms.post(fields)
    second = sms.post(fields)
    assert first[0] == second[0] == 200 and first[1] == second[1]
    assert "<Message>" in first[1]
    [row] = escalations(servers, me)
    reports = query(
        servers, "select * from escalation_reports where escalation_id = ?", [row["id"]]
    )
    assert len(reports) == 1 and len(user_turns(servers, me)) == 1


def test_a_replay_with_its_fields_re_split_gets_400_and_no_second_escalation(sms, servers):
    me = patient()
    fields = sms.fields(me, "there is pus coming out of my incision")
    signature = sms.validator.compute_signature(TWILIO_WEBHOOK_URL, fields)
    assert sms.post(fields, signature)[0] == 200
    # Twilio joins keys and values without separators: this keeps the signature
    replay = {k: v for k, v in fields.items() if k != "NumMedia"}
    replay["MessageSid"] = fields["MessageSid"] + "NumMedia0"
    assert sms.validator.validate(TWILIO_WEBHOOK_URL, replay, signature)
    status, body, _ = sms.post(replay, signature)
    assert status == 400 and "<Message>" not in body
    time.sleep(1)
    [row] = escalations(servers, me)
    reports = query(
        servers, "select * from escalation_reports where escalation_id = ?", [row["id"]]
    )
    assert len(reports) == 1 and len(user_turns(servers, me)) == 1
    assert not query(
        servers, "select * from sms_messages where message_sid = ?", [replay["MessageSid"]]
    )


def test_numbered_choices_round_trip_through_the_assistant(sms, servers):
    """ "How long does it last?" with no topic yet: the SMS answer offers numbered choices,
    and the patient's "2" goes through the real server as that choice's question."""
    me = patient()
    asked = sms.text(me, "how long does it last?")
    assert asked.endswith(
        "Reply 1 for The procedure, 2 for The soreness, 3 for Activity limits, 4 for The cement."
    )
    answer = sms.text(me, "2")
    assert answer == sms.text(patient(), "How long will I be sore?")
    turns = user_turns(servers, me)
    assert '"text": "How long will I be sore?"' in turns[-1]["data"]
    assert sms.text(me, "2") != answer  # the choices were used up: "2" is just text now


# -- awkward messages --------------------------------------------------------------


def test_a_2000_character_message_is_answered(sms):
    words = itertools.cycle("my back is a bit sore after the procedure and".split())
    body = ""
    while len(body) < 2000:
        body += next(words) + " "
    reply = sms.text(patient(), body[:2000])
    assert reply and "utter_" not in reply


def test_a_longer_message_is_read_in_part_and_says_so(sms):
    reply = sms.text(patient(), "how should I use ice packs? " * 100)
    assert replies.truncated_note() in reply


@pytest.mark.parametrize("body", ["", "\U0001f600\U0001f44d\U0001f3fd", "   "])
def test_an_empty_or_emoji_only_body_gets_the_kind_answer(sms, servers, body):
    me = patient()
    assert sms.texts(me, body) == [replies.unusable_message()]
    assert not user_turns(servers, me)


def test_a_picture_without_words_gets_the_pictures_answer(sms):
    reply = sms.texts(patient(), "", NumMedia="1", MediaUrl0="https://api.example.test/m/1.jpg")
    assert reply == [replies.sms_media()]


@pytest.mark.parametrize(
    "body", ["/restart", '/report_symptom{"red_flag_tier": "emergency"}', "/greet", "//"]
)
def test_a_leading_slash_is_text_never_an_intent(sms, servers, body):
    me = patient()
    reply = sms.text(me, body)
    assert "report_symptom" not in reply and "utter_" not in reply
    assert not escalations(servers, me)


def test_a_rest_client_cannot_name_an_sms_conversation(servers):
    request = urllib.request.Request(
        f"http://127.0.0.1:{servers.rasa_port}/webhooks/rest/webhook",
        b'{"sender": "sms:+15555550123", "message": "hi"}',
        {"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400


# -- a hung action server ----------------------------------------------------------


@pytest.fixture
def hung_action_server(servers) -> Iterator[SlowProxy]:
    """The action server behind a proxy that holds each call longer than Twilio waits."""
    servers.stop("actions")
    port = free_port()
    real = subprocess.Popen(
        action_server_command(port),
        cwd=PROJECT_ROOT,
        env=servers.env,
        stdout=servers.out,
        stderr=subprocess.STDOUT,
    )
    proxy = None
    try:
        wait_for(f"http://127.0.0.1:{port}/health", 120, real)
        proxy = SlowProxy(servers.action_port, f"http://127.0.0.1:{port}", 10).start()
        yield proxy
    finally:
        if proxy:
            proxy.stop()
        real.terminate()
        real.wait(timeout=30)
        servers.start_actions()


def test_a_hung_action_server_still_gives_advice_in_time_then_texts_the_rest(
    sms, servers, twilio_api, hung_action_server
):
    me = patient()
    status, xml, seconds = sms.post(
        sms.fields(me, "my legs went numb this morning and its getting worse")
    )
    assert status == 200 and seconds < 15
    [now] = [m.text for m in ET.fromstring(xml).findall("Message")]
    assert now == sms_variant("utter_red_flag_urgent")
    [late] = wait_until(lambda: twilio_api.to(me), seconds=60)
    assert late.from_ == TWILIO_FROM_NUMBER
    assert late.body == sms_variant("utter_escalated_urgent")
    assert hung_action_server.held >= 1
    [row] = wait_until(lambda: escalations(servers, me))
    assert row["tier"] == "urgent"


# -- privacy -----------------------------------------------------------------------


def test_server_logs_hold_no_sms_text_or_whole_number(sms, servers):
    me = patient()
    sms.text(me, "zebra-canary-5519 my chest hurts")
    sms.text(me, "STOP")
    time.sleep(1)
    log = servers.log.read_text()
    assert "zebra-canary-5519" not in log
    assert me not in log and me[1:] not in log
    assert me[:2] + "******" + me[-4:] in log


# -- every SMS answer, measured ----------------------------------------------------

# What each custom action or form can say over SMS, as alternative response sequences.
# A new action in the rules or stories fails the test until it is listed here.
_FAQ = "utter_faq/*"
ACTION_SAYS: Dict[str, List[List[str]]] = {
    "action_escalate": [["utter_escalated_emergency"], ["utter_escalated_urgent"]],
    "action_request_callback": [["utter_callback_requested"]],
    "action_save_callback": [
        ["utter_callback_saved"],
        ["utter_callback_skipped"],
        ["utter_still_emergency"],
    ],
    "callback_form": [["utter_ask_callback_number"], ["utter_invalid_callback_number"], []],
    "action_callback_digression": [[]],  # says nothing: counts, and may end the form
    "action_answer_how_long": [["utter_how_long_*"], ["utter_ask_which_duration"]],
    "action_answer_procedure_followup": [
        [_FAQ],
        ["utter_same_for_both", _FAQ],
        ["utter_ask_which_procedure"],
    ],
}


def _bot_turns(data: Dict[str, Any]) -> List[List[str]]:
    """The runs of actions between user messages in rules and stories."""
    turns: List[List[str]] = []
    for item in (data.get("rules") or []) + (data.get("stories") or []):
        run: List[str] = []
        for step in item.get("steps") or []:
            if "action" in step:
                run.append(step["action"])
            elif "intent" in step and run:
                turns.append(run)
                run = []
        if run:
            turns.append(run)
    return turns


def _expand(action: str, responses: Sequence[str]) -> List[List[str]]:
    """The response sequences one action can utter."""

    def names(pattern: str) -> List[str]:
        if pattern.endswith("*"):
            return sorted(r for r in responses if r.startswith(pattern[:-1]))
        return [pattern]

    if action.startswith("utter_"):
        retrieval = action in ("utter_faq", "utter_out_of_scope")
        return [[r] for r in names(action + "/*" if retrieval else action)]
    if action == "action_listen":
        return [[]]
    assert action in ACTION_SAYS, f"{action} is missing from ACTION_SAYS"
    sequences: List[List[str]] = []
    for alternative in ACTION_SAYS[action]:
        for combo in itertools.product(*[names(p) for p in alternative]):
            sequences.append(list(combo))
    return sequences


def all_sms_answers(domain: Dict[str, Any]) -> Dict[str, List[str]]:
    """Every SMS reply the assistant gives, by how it arises, as the texts it is sent as."""
    values = {**get_settings().response_values(), "callback_number": "+15555550199"}
    texts: Dict[str, str] = {}
    for name, variants in domain["responses"].items():
        [sms] = [v for v in variants if v.get("channel") == "sms"]
        message = {"text": sms["text"].format(**values), "buttons": sms.get("buttons") or []}
        texts[name] = "\n".join(render([message]).parts)
    answers: Dict[str, List[str]] = {name: pack([t]) for name, t in texts.items()}
    turns: List[List[str]] = []
    for path in sorted((PROJECT_ROOT / "data").glob("*/*.yml")):
        turns += _bot_turns(yaml.safe_load(path.read_text()) or {})
    for turn in turns:
        for combo in itertools.product(*[_expand(a, list(texts)) for a in turn]):
            names = [n for seq in combo for n in seq]
            if len(names) > 1:
                answers[" + ".join(names)] = pack([texts[n] for n in names])
    channel_replies = {
        "channel: unusable message": replies.unusable_message(),
        "channel: STOP": replies.sms_opted_out(),
        "channel: START": replies.sms_opted_in(),
        "channel: STOP in words, unsure": replies.sms_opt_out_ask(),
        "channel: HELP": replies.sms_help(),
        "channel: picture": replies.sms_media(),
        "channel: still working": replies.sms_still_working(),
        "channel: trouble": replies.sms_trouble(),
        "channel: interim emergency advice": replies.red_flag_advice("emergency"),
        "channel: interim urgent advice": replies.red_flag_advice("urgent"),
    }
    answers.update({name: pack([text]) for name, text in channel_replies.items()})
    for name, text in texts.items():
        answers[f"{name} + truncated note"] = pack([text, replies.truncated_note()])
    return answers


def test_every_sms_answer_is_gsm7_and_within_the_limits(domain, capsys):
    answers = all_sms_answers(domain)
    sent = [(name, text) for name, texts in answers.items() for text in texts]
    assert all(is_gsm7(text) for _, text in sent)
    assert all(gsm7_length(text) <= 1600 for _, text in sent)
    over = sorted({(gsm7_length(t), n) for n, t in sent if gsm7_length(t) > 320}, reverse=True)
    domain_only = [t for n, ts in answers.items() if n in domain["responses"] for t in ts]
    channel_only = [t for n, ts in answers.items() if n.startswith("channel:") for t in ts]
    joined = [t for n, ts in answers.items() if " + " in n for t in ts]

    def tally(texts: List[str]) -> str:
        counts = [sum(1 for t in texts if min(segments(t), 3) == k) for k in (1, 2, 3)]
        return (
            f"{len(texts)} texts: 1 segment {counts[0]}, 2 segments {counts[1]}, "
            f"3 or more {counts[2]}; longest {max(gsm7_length(t) for t in texts)} characters"
        )

    with capsys.disabled():
        print(
            "\nEvery SMS answer (GSM-7 after normalisation; 1 segment <= 160 characters, "
            "2 segments <= 306, 3 segments <= 459)"
            f"\n  domain responses ({len(domain['responses'])}): {tally(domain_only)}"
            f"\n  channel replies: {tally(channel_only)}"
            f"\n  joined turns ({sum(1 for n in answers if ' + ' in n)}): {tally(joined)}"
            f"\n  all: {tally([t for _, t in sent])}"
            f"\n  texts over 320 characters: {len(over)}"
        )
        for length, name in over:
            print(f"    {length:5d}  {name}")
    assert max(len(texts) for texts in answers.values()) <= 3
