"""The SMS reply deadline: answer within Twilio's window, text the rest afterwards.

Twilio waits 15 seconds for the webhook's answer and the assistant can wait much
longer for a hung action server, so the conversation runs as a task. After
SMS_REPLY_TIMEOUT_SECONDS the patient gets what is ready, or an interim text (a
red flag's advice, from the deterministic detector, when that is what they sent),
and what the conversation says later goes out through the outbound sender (not the
advice already given). `ReplyDeadline` is the part of the SMS input channel that
does this; it needs the channel's `reply_timeout` and a `_tasks` set.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set

from rasa.core.channels.channel import OutputChannel, UserMessage

from bot import replies
from bot.channels import outbound
from bot.channels.sms_format import Choice, mask, pack, render, scrub
from bot.channels.sms_store import get_sms_store
from bot.channels.twilio_webhook import Webhook
from bot.escalations import SMS_PREFIX
from bot.settings import get_settings
from bot.tiers import EMERGENCY, advice_tier

logger = logging.getLogger("bot.channels.sms")

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


@dataclass
class Answer:
    """The texts for the webhook response, and the choices they offer."""

    texts: List[str]
    choices: List[Choice]


class ReplyDeadline:
    """Runs one patient message's conversation under the reply deadline."""

    reply_timeout: float
    _tasks: Set[asyncio.Future]

    def name(self) -> str:
        return "sms"

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
