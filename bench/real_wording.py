"""The assistant on wording nobody here wrote: the real-wording corpus (tests/data/real/),
played against the real servers over REST and SMS, each model on its own servers.

    python -m bench.real_wording [--models ours,stock] [--split locked] [--channels rest,sms]

Single messages are each a new conversation; conversations are played turn by turn. A turn is
judged on what the servers did, read back from the conversation store: the responses uttered
(their `utter_action`), the escalations written and the SMS opt-outs kept.

Figures, for the split asked (the locked half unless told otherwise):
- questions right: a question (flag none) answered with the response of its topic, and no
  escalation;
- red-flag recall: reports escalated at their tier or a more urgent one;
- false alarms: look-alikes escalated (asking "Are you having this now?" is counted apart);
- conversations fully right, and turns right, per channel and per kind.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from bench.common import OURS_MODEL, STOCK_MODEL, running, table
from bench.corpus import Conversation, Message, load_conversations, load_messages

RANK = {"emergency": 0, "urgent": 1, "callback": 2}
SMALL_TALK = {
    "greet": "utter_greet",
    "goodbye": "utter_goodbye",
    "thank": "utter_thank",
    "ask_human": "utter_human_handoff",
}
# responses that keep a warning sign's advice in the turns after it
ADVICE_PREFIXES = ("utter_red_flag_", "utter_after_advice", "utter_escalated_", "utter_still_")

TWILIO_AUTH_TOKEN = "bench-twilio-auth-token"
TWILIO_WEBHOOK_URL = "https://clinic.example.test/webhooks/sms/webhook"


@dataclass
class Outcome:
    """What the servers did with one turn."""

    utters: List[str]
    escalation_tiers: List[str]
    opted_out: bool = False


def judge(expect: str, outcome: Outcome) -> bool:
    """Whether a turn did what its expectation asks (see tests/data/real/README.md)."""
    utters = outcome.utters
    escalated = bool(outcome.escalation_tiers)
    kind, _, arg = expect.partition(":")
    if kind == "red_flag" or expect == "red_flag":
        wanted = RANK.get(arg or "urgent", 1)
        return any(RANK.get(t, 9) <= wanted for t in outcome.escalation_tiers)
    if kind == "after_advice":
        keeps = any(u.startswith(ADVICE_PREFIXES) for u in utters)
        return keeps and not any(u.startswith("utter_faq/") for u in utters)
    if expect == "ask_having_now":
        return "utter_ask_having_now" in utters or escalated
    if expect == "opt_out":
        return outcome.opted_out
    if expect == "callback_skipped":
        return "utter_callback_skipped" in utters
    if kind == "followup":
        expect = arg
    if escalated:
        return False
    if expect in SMALL_TALK:
        return SMALL_TALK[expect] in utters
    key = expect.split("/", 1)[-1]
    # an existing answer (faq/x, out_of_scope/x) or one still to write (new/x -> faq/x)
    return any(u.split("/", 1)[-1] == key or u.endswith(f"_{key}") for u in utters)


def verdict(message: Message, outcome: Outcome) -> str:
    """One word for a single message: right, wrong, missed, alarm, asked."""
    if message.flag == "report":
        return "right" if judge(f"red_flag:{message.tier or 'urgent'}", outcome) else "missed"
    if outcome.escalation_tiers:
        return "alarm"
    if message.flag == "lookalike":
        return "asked" if "utter_ask_having_now" in outcome.utters else "right"
    return "right" if judge(message.topic, outcome) else "wrong"


# -- talking to the servers --------------------------------------------------------


class Channel:
    """Sends one patient message and reads back what the servers did with it."""

    name = ""

    def __init__(self, rasa_port: int, db: Path) -> None:
        self.port = rasa_port
        self.db = db

    def new_conversation(self) -> str:
        raise NotImplementedError

    def conversation_id(self, who: str) -> str:
        raise NotImplementedError

    def post(self, who: str, text: str) -> None:
        raise NotImplementedError

    def say(self, who: str, text: str) -> Outcome:
        cid = self.conversation_id(who)
        last_event, last_escalation = self._marks(cid)
        self.post(who, text)
        with self._connect() as db:
            events = db.execute(
                "select data from events where sender_id = ? and id > ? and type_name = 'bot'",
                [cid, last_event],
            ).fetchall()
            tiers = [
                r[0]
                for r in _rows(
                    db,
                    "select r.tier from escalation_reports r join escalations e "
                    "on e.id = r.escalation_id where e.sender = ? and r.id > ?",
                    [cid, last_escalation],
                )
            ]
            opted = bool(_rows(db, "select 1 from sms_opt_outs where phone = ?", [who]))
        utters = [
            (json.loads(d).get("metadata") or {}).get("utter_action") or "" for (d,) in events
        ]
        # a request to talk to a person is recorded at the callback tier: not a warning sign
        urgent = [t for t in tiers if t in ("emergency", "urgent")]
        return Outcome([u for u in utters if u], urgent, opted)

    def _marks(self, cid: str) -> Tuple[int, int]:
        with self._connect() as db:
            event = _rows(db, "select max(id) from events where sender_id = ?", [cid])
            report = _rows(
                db,
                "select max(r.id) from escalation_reports r join escalations e "
                "on e.id = r.escalation_id where e.sender = ?",
                [cid],
            )
        return (event[0][0] or 0) if event else 0, (report[0][0] or 0) if report else 0

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db, timeout=30)


def _rows(db: sqlite3.Connection, sql: str, args: Sequence[object]) -> List[Tuple]:
    try:
        return db.execute(sql, list(args)).fetchall()
    except sqlite3.OperationalError:  # a table the servers have not created yet
        return []


class Rest(Channel):
    name = "rest"

    def new_conversation(self) -> str:
        return "bench-" + uuid.uuid4().hex[:12]

    def conversation_id(self, who: str) -> str:
        return f"rest:{who}"

    def post(self, who: str, text: str) -> None:
        body = json.dumps({"sender": who, "message": text}).encode()
        url = f"http://127.0.0.1:{self.port}/webhooks/rest/webhook"
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as reply:
            reply.read()


class Sms(Channel):
    name = "sms"

    def __init__(self, rasa_port: int, db: Path) -> None:
        from twilio.request_validator import RequestValidator

        super().__init__(rasa_port, db)
        self.validator = RequestValidator(TWILIO_AUTH_TOKEN)
        self.count = 0

    def new_conversation(self) -> str:
        self.count += 1
        return f"+1555{uuid.uuid4().int % 10**7:07d}"

    def conversation_id(self, who: str) -> str:
        return f"sms:{who}"

    def post(self, who: str, text: str) -> None:
        fields = {
            "AccountSid": "AC" + "be0c" * 8,
            "MessageSid": "SM" + uuid.uuid4().hex,
            "From": who,
            "To": "+15555550100",
            "Body": text,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": self.validator.compute_signature(TWILIO_WEBHOOK_URL, fields),
        }
        url = f"http://127.0.0.1:{self.port}/webhooks/sms/webhook"
        data = urllib.parse.urlencode(fields).encode()
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, data, headers), timeout=60
            ) as r:
                r.read()
        except urllib.error.HTTPError as error:  # kept as a wrong turn, not a crash
            error.read()


CHANNELS = {"rest": Rest, "sms": Sms}


# -- measuring ---------------------------------------------------------------------


def play_messages(channel: Channel, messages: Iterable[Message]) -> Dict[str, str]:
    return {m.id: verdict(m, channel.say(channel.new_conversation(), m.text)) for m in messages}


def play_conversations(
    channel: Channel, conversations: Iterable[Conversation]
) -> Dict[str, List[bool]]:
    results: Dict[str, List[bool]] = {}
    for conversation in conversations:
        who = channel.new_conversation()
        results[conversation.id] = [
            judge(turn.expect, channel.say(who, turn.user)) for turn in conversation.turns
        ]
    return results


def summarise(
    messages: List[Message],
    verdicts: Dict[str, str],
    conversations: List[Conversation],
    turns: Dict[str, Dict[str, List[bool]]],
) -> Dict[str, str]:
    def share(hit: int, total: int) -> str:
        return f"{hit}/{total} ({hit / total:.1%})" if total else "-"

    by_flag: Dict[str, Counter] = defaultdict(Counter)
    for m in messages:
        by_flag[m.flag][verdicts[m.id]] += 1
    questions, reports, looks = by_flag["none"], by_flag["report"], by_flag["lookalike"]
    row = {
        "questions right": share(questions["right"], sum(questions.values())),
        "red-flag recall": share(reports["right"], sum(reports.values())),
        "false alarms": share(looks["alarm"], sum(looks.values())),
        "look-alikes asked": share(looks["asked"], sum(looks.values())),
    }
    for name, played in turns.items():
        full = sum(all(t) for t in played.values())
        row[f"conversations right ({name})"] = share(full, len(played))
        row[f"turns right ({name})"] = share(
            sum(sum(t) for t in played.values()), sum(len(t) for t in played.values())
        )
    return row


def evaluate(
    model: Path, split: str = "locked", channels: Sequence[str] = ("rest", "sms")
) -> Tuple[Dict[str, str], Dict[str, object]]:
    """(figures, details) for one model on the asked split."""
    messages = load_messages(split)
    conversations = load_conversations(split)
    extra = {"TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN, "TWILIO_WEBHOOK_URL": TWILIO_WEBHOOK_URL}
    with running(model, extra) as servers:
        db = Path(servers.env["ASSISTANT_DB"])
        rest = Rest(servers.rasa_port, db)
        verdicts = play_messages(rest, messages)
        turns = {}
        for name in channels:
            channel = CHANNELS[name](servers.rasa_port, db)
            wanted = [c for c in conversations if name == "sms" or c.kind != "opt_out_words"]
            turns[name] = play_conversations(channel, wanted)
    details = {"verdicts": verdicts, "turns": turns}
    return summarise(messages, verdicts, conversations, turns), details


def kinds_table(conversations: List[Conversation], played: Dict[str, List[bool]]) -> str:
    kinds: Dict[str, List[bool]] = defaultdict(list)
    for c in conversations:
        if c.id in played:
            kinds[c.kind].append(all(played[c.id]))
    rows = [[k, f"{sum(v)}/{len(v)}"] for k, v in sorted(kinds.items())]
    return table(["kind", "fully right"], rows)


def failures(messages: List[Message], verdicts: Dict[str, str]) -> List[str]:
    return [
        f"{verdicts[m.id]:6} {m.id} [{m.flag}/{m.topic}/{m.tier}] {m.text[:110]}"
        for m in messages
        if verdicts[m.id] not in ("right", "asked")
    ]


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="ours,stock")
    parser.add_argument("--model", type=Path, help="one more model file, named by its stem")
    parser.add_argument("--split", default="locked", choices=["locked", "train", "fresh", "all"])
    parser.add_argument("--channels", default="rest,sms")
    parser.add_argument("--failures", action="store_true", help="list every wrong message")
    args = parser.parse_args(argv)
    models = {"ours": OURS_MODEL, "stock": STOCK_MODEL}
    wanted = {n: models[n] for n in args.models.split(",") if n and models[n].exists()}
    if args.model:
        wanted[args.model.stem] = args.model
    rows = []
    messages = load_messages(args.split)
    conversations = load_conversations(args.split)
    print(
        f"{args.split} split: {len(messages)} messages "
        f"({Counter(m.flag for m in messages)}), {len(conversations)} conversations"
    )
    for name, path in wanted.items():
        figures, details = evaluate(path, args.split, args.channels.split(","))
        rows.append({"model": name, **figures})
        played = details["turns"]
        assert isinstance(played, dict)
        for channel, results in played.items():
            print(f"\n{name}, {channel}: conversations by kind")
            print(kinds_table(conversations, results))
        if args.failures:
            verdicts = details["verdicts"]
            assert isinstance(verdicts, dict)
            print(f"\n{name}: messages not right")
            print("\n".join(failures(messages, verdicts)))
    keys = list(rows[0]) if rows else ["model"]
    print()
    print(table(keys, [[r.get(k, "-") for k in keys] for r in rows]))


if __name__ == "__main__":
    main()
