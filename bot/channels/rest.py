"""The REST channel (`POST /webhooks/rest/webhook`), made safe for patient text.

Differences from Rasa's stock `rest` channel:
- the message is cleaned (`bot.text`); a leading "/" never becomes an intent;
  a message with no words gets a kind answer and leaves the conversation alone;
  one over 2,000 characters is cut for the answer and scanned whole for warning
  signs in a separate process (`bot.long_messages`), and the patient is told;
- the conversation id is `rest:<sender>`, so a REST client can never join a
  conversation of another channel (SMS ids start with `sms:`);
- the client cannot choose the input channel or attach metadata;
- with `REST_CHANNEL_TOKEN` set, requests need `Authorization: Bearer <token>`;
- a message that reached the server is processed to the end even if the client
  hangs up first (the turn runs in a task the channel keeps, shielded from the
  request's cancellation), so a warning sign is escalated whether or not anyone
  is still listening;
- message text is never logged.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import replies
from bot.long_messages import read_message
from bot.settings import get_settings
from bot.tracker_store import turn_kept

logger = logging.getLogger(__name__)

SENDER = re.compile(r"[A-Za-z0-9_.-]{1,64}")
CONVERSATION_PREFIX = "rest:"


def valid_sender(sender: object) -> bool:
    """1-64 letters, digits, '.', '_' or '-', and nothing else (not even a final newline,
    which `$` would let through)."""
    return isinstance(sender, str) and SENDER.fullmatch(sender) is not None


def conversation_id(sender: str) -> str:
    """The tracker id of a REST sender: namespaced so no other channel's id matches."""
    return CONVERSATION_PREFIX + sender


def _authorised(request: Request, token: Optional[str]) -> bool:
    if not token:
        return True
    header = request.headers.get("Authorization", "")
    return hmac.compare_digest(header.encode(), f"Bearer {token}".encode())


class RestInput(RasaRestInput):
    """REST input channel with cleaned text, namespaced senders and an optional token."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self) -> None:
        super().__init__()
        # turns still running after their client left: kept so they are not collected
        self._turns: Set[asyncio.Task] = set()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("patient_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not _authorised(request, get_settings().rest_token):
                return response.json({"error": "unauthorized"}, status=401)
            body = request.json
            if not isinstance(body, dict):
                return response.json({"error": "expected a JSON object"}, status=400)
            sender = body.get("sender")
            if not valid_sender(sender):
                return response.json(
                    {"error": "sender must be 1-64 letters, digits, '.', '_' or '-'"},
                    status=400,
                )
            return response.json(
                await self._answer(on_new_message, str(sender), body.get("message"))
            )

        return webhook

    async def _answer(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sender: str,
        raw: object,
    ) -> List[Dict[str, Any]]:
        recipient = conversation_id(sender)
        incoming = await read_message(raw)
        if not incoming.usable:
            return [{"recipient_id": recipient, "text": replies.unusable_message()}]
        collector = CollectingOutputChannel()
        turn = asyncio.ensure_future(
            on_new_message(
                UserMessage(
                    incoming.text,
                    collector,
                    recipient,
                    input_channel=self.name(),
                    metadata=incoming.metadata,
                )
            )
        )
        self._turns.add(turn)
        turn.add_done_callback(self._turns.discard)
        try:
            # the client hanging up cancels this request, never the turn itself
            await asyncio.shield(turn)
        except CancelledError:
            logger.warning("REST client left before the answer; the turn goes on without it")
            turn.add_done_callback(_log_failure)
            raise
        except Exception:
            logger.exception("REST message failed for a conversation")
        messages = list(collector.messages)
        if not turn_kept(recipient):
            messages.append({"recipient_id": recipient, "text": replies.not_kept()})
        if incoming.truncated:
            messages.append({"recipient_id": recipient, "text": replies.truncated_note()})
        return messages


def _log_failure(turn: asyncio.Future[Any]) -> None:
    """Log a turn that failed after its client had gone (nobody else will see it)."""
    if not turn.cancelled() and turn.exception() is not None:
        logger.error("REST message failed for a conversation", exc_info=turn.exception())
