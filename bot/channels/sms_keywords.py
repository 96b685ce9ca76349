"""The carrier keyword policy of the SMS channel: opt-out, opt-in, help.

STOP (and STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT) opts a number out, kept in SQLite;
so does a plain-words request ("quit texting me", sms_opt_out), and one that may be
one is asked about once ("Reply STOP to end texts") rather than answered off-topic.
The number gets one confirmation and nothing more, check-ins included, until START, UNSTOP
or YES. HELP or INFO answers with the clinic's details. A message from an opted-out
number still runs the conversation, unanswered, so a warning sign is still escalated.
A message with no words gets a kind answer and leaves the conversation alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import List, Optional

from bot import replies
from bot.channels.sms_format import HELP, OPT_IN, OPT_OUT, keyword, mask, pack
from bot.channels.sms_opt_out import SURE, UNSURE, opt_out_in_words
from bot.channels.sms_store import SmsStore
from bot.channels.twilio_webhook import Webhook
from bot.text import Incoming, clean_incoming

logger = logging.getLogger("bot.channels.sms")


@dataclass(frozen=True)
class Decision:
    """What the policy decided for one message.

    `texts` is the whole answer when the policy answers the message itself (an empty
    list: say nothing), None when the conversation should answer it. `run_unanswered`
    says to run the conversation anyway, without a reply (an opted-out number).
    """

    incoming: Incoming
    texts: Optional[List[str]] = None
    run_unanswered: bool = False


def decide(sms: SmsStore, hook: Webhook) -> Decision:
    """Apply the keywords to one verified webhook from `hook.phone`."""
    assert hook.phone
    phone = hook.phone
    kind, word = keyword(hook.body)
    opted_out = sms.is_opted_out(phone)
    incoming = clean_incoming(hook.body)
    in_words = opt_out_in_words(hook.body) if kind is None and not opted_out else None
    if in_words == SURE:
        kind, word = OPT_OUT, "words"
    elif in_words == UNSURE:
        return Decision(incoming, pack([replies.sms_opt_out_ask()]))
    if kind == OPT_OUT:
        if sms.opt_out(phone, word, hook.message_sid):
            logger.info("SMS opt-out (%s) recorded for %s", word.upper(), mask(phone))
            sms.offer(phone, [])
            return Decision(incoming, [replies.sms_opted_out()])
        return Decision(incoming, [])
    if kind == OPT_IN and (opted_out or word != "yes"):
        if sms.opt_in(phone):
            logger.info("SMS opt-in (%s) recorded for %s", word.upper(), mask(phone))
        return Decision(incoming, pack([replies.sms_opted_in()]))
    if opted_out:
        if incoming.usable and kind != HELP:
            logger.info("SMS from opted-out %s: conversation runs, no reply", mask(phone))
            return Decision(incoming, [], run_unanswered=True)
        return Decision(incoming, [])
    if kind == HELP:
        return Decision(incoming, pack([replies.sms_help()]))
    if not incoming.usable:
        reply = replies.sms_media() if hook.num_media else replies.unusable_message()
        return Decision(incoming, pack([reply]))
    return Decision(incoming)
