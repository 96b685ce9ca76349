"""The SMS channel: Twilio Programmable Messaging webhooks at `POST /webhooks/sms/webhook`.

Why not Rasa's `twilio` connector: it checks no signature, crashes on a message
without a Body, shows button payloads, and answers through outbound API calls.
This channel:
- verifies `X-Twilio-Signature` with Twilio's RequestValidator against the
  public webhook URL (TWILIO_WEBHOOK_URL: the server sits behind a proxy);
  anything unsigned gets 403 and is neither processed nor stored.
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
  running the conversation again;
- uses `sms:<E.164 number>` as the conversation id (no other channel can
  produce it) and masks numbers in logs; message text is never logged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Set, Tuple
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot import replies
from bot.channels import outbound
from bot.channels.sms_format import (
    HELP,
    OPT_IN,
    OPT_OUT,
    Choice,
    choice_number,
    e164,
    keyword,
    mask,
    pack,
    render,
    scrub,
    twiml,
)
from bot.channels.sms_store import SmsStore, get_sms_store
from bot.escalations import SMS_PREFIX
from bot.settings import get_settings
from bot.text import clean_incoming
from bot.tiers import EMERGENCY, advice_tier

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def conversation_id(phone: str) -> str:
    """The tracker id of an SMS sender: `sms:` and the E.164 number."""
    return SMS_PREFIX + phone


def red_flag_tier(text: str) -> Optional[str]:
    """The warning-sign tier the deterministic detector finds in `text`, or None."""
    from bot.nlu.red_flags import detector, fever_threshold_f

    try:
        return detector(fever_threshold_f(get_settings().fever_threshold)).detect(text).tier
    except Exception:
        logger.exception("the red-flag detector failed on an SMS message")
        return None


class Form(Dict[str, List[str]]):
    """Form fields, each a list of values; `getlist` as Twilio's RequestValidator expects."""

    def getlist(self, name: str) -> List[str]:
        return list(self.get(name) or [])


def parse_form(body: bytes, content_type: Optional[str]) -> Form:
    """A form-encoded webhook body, keeping blank values: Twilio signs `Body=` of a
    picture sent without words, and Sanic's own form parsing drops it."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return Form()
    try:
        return Form(parse_qs(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return Form()


class SmsOutput(OutputChannel):
    """Collects the bot's messages for one patient message. Named "sms", so the domain's
    `channel: sms` response variants are the ones used."""

    def __init__(self) -> None:
        self.messages: List[Dict[str, Any]] = []

    @classmethod
    def name(cls) -> str:
        return "sms"

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        self.messages.append(dict(message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.messages.append({"text": text})


@dataclass(frozen=True)
class Webhook:
    """The fields of a Twilio messaging webhook this channel uses."""

    phone: Optional[str]
    clinic_number: Optional[str]
    body: str
    message_sid: str
    num_media: int

    @classmethod
    def parse(cls, form: Mapping[str, Any]) -> Webhook:
        def field(name: str) -> str:
            value = form.get(name)
            if isinstance(value, list):
                value = value[0] if value else ""
            return value if isinstance(value, str) else ""

        try:
            media = int(field("NumMedia") or 0)
        except ValueError:
            media = 0
        return cls(
            phone=e164(field("From")),
            clinic_number=e164(field("To")),
            body=field("Body"),
            message_sid=field("MessageSid") or field("SmsSid"),
            num_media=max(media, 0),
        )


@dataclass
class Answer:
    """The texts for the webhook response, and the choices they offer."""

    texts: List[str]
    choices: List[Choice]


class SmsInput(InputChannel):
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
                return response.text("forbidden", status=status)
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
        signed_url = self.webhook_url or url
        if self.webhook_url and query and "?" not in signed_url:
            signed_url = f"{signed_url}?{query}"
        return RequestValidator(self.auth_token).validate(signed_url, form, signature)

    async def handle(
        self,
        on_new_message: OnNewMessage,
        form: Mapping[str, Any],
        signature: Optional[str],
        url: str,
        query: str = "",
    ) -> Tuple[int, str]:
        """(HTTP status, TwiML) for one webhook."""
        if not self.verified(form, signature, url, query):
            logger.warning("SMS webhook refused: missing or wrong %s", SIGNATURE_HEADER)
            return 403, ""
        hook = Webhook.parse(form)
        if not hook.phone or not hook.message_sid:
            logger.warning("SMS webhook without a phone number sender or MessageSid: ignored")
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
        kind, word = keyword(hook.body)
        opted_out = sms.is_opted_out(phone)
        if kind == OPT_OUT:
            if sms.opt_out(phone, word, hook.message_sid):
                logger.info("SMS opt-out (%s) recorded for %s", word.upper(), mask(phone))
                sms.offer(phone, [])
                return Answer([replies.sms_opted_out()], [])
            return Answer([], [])
        if kind == OPT_IN and (opted_out or word != "yes"):
            if sms.opt_in(phone):
                logger.info("SMS opt-in (%s) recorded for %s", word.upper(), mask(phone))
            return Answer(pack([replies.sms_opted_in()]), [])
        incoming = clean_incoming(hook.body)
        if opted_out:
            if incoming.usable and kind != HELP:
                logger.info("SMS from opted-out %s: conversation runs, no reply", mask(phone))
                self._keep(self._start(on_new_message, hook, incoming.text, SmsOutput()))
            return Answer([], [])
        if kind == HELP:
            return Answer(pack([replies.sms_help()]), [])
        if not incoming.usable:
            reply = replies.sms_media() if hook.num_media else replies.unusable_message()
            return Answer(pack([reply]), [])
        text = incoming.text
        number = choice_number(text)
        chosen = sms.take_choice(phone, number) if number is not None else None
        if chosen:
            text = clean_incoming(chosen.payload).text or text
        sms.offer(phone, [])
        answer = await self._converse(on_new_message, hook, text, incoming.truncated)
        sms.offer(phone, answer.choices)
        return answer

    # -- the conversation -----------------------------------------------------------

    def _start(
        self, on_new_message: OnNewMessage, hook: Webhook, text: str, output: SmsOutput
    ) -> asyncio.Future:
        assert hook.phone
        message = UserMessage(
            text,
            output,
            conversation_id(hook.phone),
            input_channel=self.name(),
            message_id=hook.message_sid,
        )
        return asyncio.ensure_future(on_new_message(message))

    def _keep(self, task: asyncio.Future) -> None:
        """Hold a background task until it ends, and log how it failed."""
        self._tasks.add(task)

        def done(finished: asyncio.Future) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                logger.error(
                    "SMS background work failed: %s",
                    scrub(repr(finished.exception())),
                )

        task.add_done_callback(done)

    async def _converse(
        self, on_new_message: OnNewMessage, hook: Webhook, text: str, truncated: bool
    ) -> Answer:
        """Run the conversation; answer with what is ready within the reply time-out."""
        output = SmsOutput()
        task = self._start(on_new_message, hook, text, output)
        self._keep(task)
        timed_out = failed = False
        try:
            await asyncio.wait_for(asyncio.shield(task), self.reply_timeout)
        except asyncio.TimeoutError:
            timed_out = True
        except asyncio.CancelledError:
            # Twilio hung up: whatever the conversation says goes out as a text
            self._send_later(task, output, 0, hook, advised=None, promised=True)
            raise
        except Exception:
            failed = True
            logger.exception("SMS conversation failed for %s", mask(hook.phone))
        ready = list(output.messages)
        rendered = render(ready)
        parts = list(rendered.parts)
        advised = None
        if timed_out or failed:
            advised = self._missing_advice(text, ready)
            if advised:
                parts.insert(0, replies.red_flag_advice(advised))
            if not parts:
                parts = [replies.sms_still_working() if timed_out else replies.sms_trouble()]
        if truncated:
            parts.append(replies.truncated_note())
        if timed_out:
            logger.warning(
                "SMS answer for %s took over %.0f s: sent %d message(s) now, the rest later",
                mask(hook.phone),
                self.reply_timeout,
                len(ready),
            )
            promised = not ready and not advised
            self._send_later(task, output, len(ready), hook, advised, promised)
        return Answer(pack(parts), rendered.choices)

    @staticmethod
    def _missing_advice(text: str, ready: List[Dict[str, Any]]) -> Optional[str]:
        """The red-flag tier to advise on now, if the message reports a warning sign and
        the advice for it (or a more urgent one) is not among the messages ready."""
        tier = red_flag_tier(text)
        given = {advice_tier(m.get("utter_action")) for m in ready}
        if not tier or tier in given or EMERGENCY in given:
            return None
        return tier

    def _send_later(
        self,
        task: asyncio.Future,
        output: SmsOutput,
        already: int,
        hook: Webhook,
        advised: Optional[str],
        promised: bool,
    ) -> None:
        """When the conversation ends, text the patient what it said after the webhook
        was answered (not the advice already given)."""
        assert hook.phone
        phone = hook.phone

        async def deliver() -> None:
            try:
                await task
            except Exception:
                logger.exception("late SMS conversation failed for %s", mask(phone))
            late = [
                m
                for m in output.messages[already:]
                if not (advised and advice_tier(m.get("utter_action")) == advised)
            ]
            rendered = render(late)
            texts = pack(rendered.parts) or (pack([replies.sms_trouble()]) if promised else [])
            if not texts:
                return
            try:
                await outbound.send_sms_async(phone, texts, sender=hook.clinic_number)
            except outbound.OptedOut:
                logger.info("late SMS answer not sent: %s opted out", mask(phone))
            except outbound.OutboundError as error:
                logger.error("late SMS answer to %s not sent: %s", mask(phone), scrub(str(error)))
            else:
                if rendered.choices:
                    get_sms_store().offer(phone, rendered.choices)

        self._keep(asyncio.ensure_future(deliver()))
