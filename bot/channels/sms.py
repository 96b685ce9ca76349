"""The SMS channel: Twilio Programmable Messaging webhooks at `POST /webhooks/sms/webhook`.

Why not Rasa's `twilio` connector: it checks no signature, crashes on a message
without a Body, shows button payloads, and answers through outbound API calls.
This channel:
- verifies `X-Twilio-Signature` with Twilio's RequestValidator against the
  public webhook URL (TWILIO_WEBHOOK_URL: the server sits behind a proxy);
  anything unsigned gets 403 and is neither processed nor stored. A signed form
  that is not shaped as Twilio sends it (`twilio_webhook.malformed`: a MessageSid
  other than `SM`/`MM` and 32 hex digits, a field Twilio always sends missing)
  is a re-split replay: 400, nothing stored, nothing answered;
  SMS_SKIP_SIGNATURE_CHECK=1 turns the check off for development, with a
  warning at start and on every request;
- answers in the webhook response (TwiML). Twilio waits 15 seconds and the
  assistant can wait much longer for a hung action server, so the
  conversation runs as a task: after SMS_REPLY_TIMEOUT_SECONDS the patient
  gets what is ready, or an interim text (a red flag's advice, from the
  deterministic detector, when that is what they sent), and the rest follows
  through the outbound sender;
- joins the bot's messages into as few texts as fit two segments (306 GSM-7
  characters; never over 1,600), normalised to GSM-7, and
  turns buttons into numbered choices; a reply of "2" sends the second
  choice's text. No payload or intent name reaches the patient;
- treats STOP (and the other opt-out words) as an opt-out kept in SQLite, and
  sends nothing more until START; HELP answers with the clinic's details. A
  message from an opted-out number still runs the conversation, unanswered,
  so a warning sign is still escalated;
- answers a repeated MessageSid with the texts it was answered with, without
  running the conversation again (only a MessageSid of Twilio's shape gets this far,
  so a replay cannot pass for a new message);
- uses `sms:<E.164 number>` as the conversation id (no other channel can
  produce it) and masks numbers in logs; message text is never logged.

This module is the webhook itself (verify, deduplicate, answer); its parts:
`twilio_webhook` (the protocol: form, fields, signature), `sms_keywords` (the carrier
keyword policy), `sms_deadline` (the reply deadline and late sending), `sms_format`
(GSM-7 text, joining, numbered choices, TwiML) and `sms_store` (its SQLite state).
A reply to an open check-in is read by `bot.checkins.inbound` first.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import replies
from bot.channels import outbound
from bot.channels.sms_deadline import (
    Answer,
    OnNewMessage,
    ReplyDeadline,
    SmsOutput,
    conversation_id,
    red_flag_tier,
)
from bot.channels.sms_format import choice_number, mask, pack, twiml
from bot.channels.sms_keywords import decide
from bot.channels.sms_store import SmsStore, get_sms_store
from bot.channels.twilio_webhook import (
    SIGNATURE_HEADER,
    Form,
    Webhook,
    malformed,
    parse_form,
    signature_valid,
)
from bot.checkins.inbound import handle_reply
from bot.settings import get_settings
from bot.text import clean_incoming

logger = logging.getLogger(__name__)
REFUSALS = {400: "bad request", 403: "forbidden"}

__all__ = [
    "Answer",
    "Form",
    "SmsInput",
    "SmsOutput",
    "Webhook",
    "conversation_id",
    "parse_form",
    "red_flag_tier",
]


class SmsInput(ReplyDeadline, InputChannel):
    """Twilio SMS webhooks, verified, answered with TwiML."""

    @classmethod
    def name(cls) -> str:
        return "sms"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        s = get_settings()
        return cls(
            auth_token=credentials.get("auth_token") or s.twilio_auth_token,
            webhook_url=credentials.get("webhook_url") or s.twilio_webhook_url,
            skip_signature_check=s.sms_skip_signature_check,
            reply_timeout=s.sms_reply_timeout_seconds,
        )

    def __init__(
        self,
        auth_token: Optional[str],
        webhook_url: Optional[str],
        skip_signature_check: bool = False,
        reply_timeout: float = 10.0,
    ) -> None:
        self.auth_token = auth_token or None
        self.webhook_url = webhook_url or None
        self.skip_signature_check = skip_signature_check
        self.reply_timeout = reply_timeout
        self._tasks: Set[asyncio.Future] = set()
        replies.preload()
        self._warn_at_start()

    def _warn_at_start(self) -> None:
        if self.skip_signature_check:
            logger.warning(
                "SMS_SKIP_SIGNATURE_CHECK is on: SMS webhooks are NOT checked to come from "
                "Twilio. Anyone can post messages as any phone number. Development only."
            )
        elif not self.auth_token:
            logger.warning(
                "TWILIO_AUTH_TOKEN is not set: the SMS channel refuses every webhook (403)."
            )
        elif not self.webhook_url:
            logger.warning(
                "TWILIO_WEBHOOK_URL is not set: signatures are checked against the URL this "
                "server sees, which does not match behind a proxy."
            )
        if (self.auth_token or self.skip_signature_check) and not outbound.configured():
            logger.warning(
                "TWILIO_ACCOUNT_SID or TWILIO_FROM_NUMBER is not set: SMS answers that take "
                "longer than %.0f s cannot be sent afterwards.",
                self.reply_timeout,
            )

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint("patient_sms_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            status, body = await self.handle(
                on_new_message,
                parse_form(request.body, request.headers.get("Content-Type")),
                request.headers.get(SIGNATURE_HEADER),
                request.url,
                request.query_string,
            )
            if status != 200:
                return response.text(REFUSALS.get(status, "refused"), status=status)
            return response.text(body, content_type="text/xml; charset=utf-8")

        return webhook

    # -- the webhook ----------------------------------------------------------------

    def verified(
        self, form: Mapping[str, Any], signature: Optional[str], url: str, query: str = ""
    ) -> bool:
        """Whether the request carries Twilio's signature for the public webhook URL."""
        if self.skip_signature_check:
            logger.warning("SMS webhook accepted WITHOUT a signature check (development switch)")
            return True
        if not self.auth_token or not signature:
            return False
        return signature_valid(self.auth_token, self.webhook_url, form, signature, url, query)

    async def handle(
        self,
        on_new_message: OnNewMessage,
        form: Mapping[str, Any],
        signature: Optional[str],
        url: str,
        query: str = "",
    ) -> Tuple[int, str]:
        """(HTTP status, TwiML) for one webhook: 403 unsigned, 400 signed but not shaped
        as Twilio sends it (nothing stored, nothing answered)."""
        if not self.verified(form, signature, url, query):
            logger.warning("SMS webhook refused: missing or wrong %s", SIGNATURE_HEADER)
            return 403, ""
        problem = malformed(form)
        if problem:
            # signed, so a captured webhook re-sent with its fields re-split
            logger.warning("SMS webhook refused, not as Twilio sends it: %s", problem)
            return 400, ""
        hook = Webhook.parse(form)
        if not hook.phone:
            logger.warning("SMS webhook without a phone number sender: ignored")
            return 200, twiml([])
        sms = get_sms_store()
        if not sms.claim(hook.message_sid, hook.phone):
            logger.info(
                "SMS %s from %s came again: same answer", hook.message_sid, mask(hook.phone)
            )
            return 200, twiml(await self._earlier_answer(sms, hook))
        logger.info("SMS %s from %s (%d media)", hook.message_sid, mask(hook.phone), hook.num_media)
        try:
            answer = await self._answer(on_new_message, hook, sms)
        except Exception:
            logger.exception("SMS %s could not be answered", hook.message_sid)
            answer = Answer([] if sms.is_opted_out(hook.phone) else [replies.sms_trouble()], [])
        sms.answered(hook.message_sid, answer.texts)
        return 200, twiml(answer.texts)

    async def _earlier_answer(self, sms: SmsStore, hook: Webhook) -> List[str]:
        """The texts a repeated MessageSid was answered with (waiting while the first
        delivery is still being answered); nothing if the number opted out since."""
        assert hook.phone
        opted_out_by = sms.opted_out_by(hook.phone)
        if opted_out_by is not None and opted_out_by != hook.message_sid:
            return []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.reply_timeout + 1.0
        while True:
            texts = sms.reply_for(hook.message_sid)
            if texts is not None:
                return texts
            if loop.time() >= deadline:
                return []
            await asyncio.sleep(0.2)

    async def _answer(self, on_new_message: OnNewMessage, hook: Webhook, sms: SmsStore) -> Answer:
        assert hook.phone
        phone = hook.phone
        decision = decide(sms, hook)
        incoming = decision.incoming
        if decision.run_unanswered:
            self._keep(self._start(on_new_message, hook, incoming.text, SmsOutput()))
        if decision.texts is not None:
            return Answer(decision.texts, [])
        text = incoming.text
        number = choice_number(text)
        chosen = sms.take_choice(phone, number) if number is not None else None
        checkin = None if chosen else handle_reply(phone, text, hook.message_sid)
        if checkin and checkin.texts is not None:
            return Answer(pack(checkin.texts), [])
        if chosen:
            text = clean_incoming(chosen.payload).text or text
        sms.offer(phone, [])
        answer = await self._converse(on_new_message, hook, text, incoming.truncated)
        sms.offer(phone, answer.choices)
        if checkin and checkin.after:
            answer = Answer(pack([*answer.texts, *checkin.after]), answer.choices)
        return answer
