"""A message from the worker to an open website chat (the patient follow-up).

The chat's sockets live in the Rasa server's process and the worker is another one, so the
worker POSTs to the web channel's `/webhooks/web/push` with `Authorization: Bearer
<WEB_PUSH_SECRET>` and a JSON body naming the conversation (`web:<session id>`) and the
message by its name in bot/replies.yml, never as free text: whoever holds the secret can
send only the clinic's own words. `python -m bot serve` makes up the secret and points
WEB_PUSH_URL at its Rasa server when they are not set.

The channel answers 200 when at least one socket of the conversation is connected (it shows
the message there and keeps it in the conversation's history), 409 when the chat is not
open, 400 for a conversation that is not a website chat or a message it does not know, 401
for a wrong secret and 404 when it has no secret (pushing is off). `push()` raises
`PushError` for anything but 200, with `not_open` telling the one outcome that is final.
"""

from __future__ import annotations

import hmac
import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any, Callable, Dict

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from bot import replies
from bot.settings import Settings, get_settings

if TYPE_CHECKING:
    from bot.channels.web import WebInput

PATH = "/push"
PREFIX = "web:"
MESSAGES: Dict[str, Callable[[], str]] = {"patient_still_trying": replies.patient_still_trying}


class PushError(Exception):
    """The message was not shown; `not_open` when only because no chat was open."""

    def __init__(self, message: str, not_open: bool = False) -> None:
        super().__init__(message)
        self.not_open = not_open


def push(settings: Settings, conversation: str, message: str, timeout: float = 10.0) -> int:
    """Show the reply called `message` in the open chat of `conversation`; returns how many
    sockets (browser tabs) got it. Raises PushError otherwise, at once for a conversation
    that is not a website chat or a message with no reply of that name."""
    if not conversation.startswith(PREFIX) or len(conversation) <= len(PREFIX):
        raise PushError(f"{conversation.split(':')[0] or 'no'} conversation: not a website chat")
    if message not in MESSAGES:
        raise PushError(f"no message called {message!r}")
    if not settings.web_push_url or not settings.web_push_secret:
        raise PushError("WEB_PUSH_URL and WEB_PUSH_SECRET are needed to reach the website chat")
    request = urllib.request.Request(
        settings.web_push_url,
        data=json.dumps({"conversation_id": conversation, "message": message}).encode(),
        headers={
            "Authorization": f"Bearer {settings.web_push_secret}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
            return int(json.loads(reply.read() or b"{}").get("sockets", 0))
    except urllib.error.HTTPError as error:
        try:
            said = json.loads(error.read() or b"{}").get("error", "")
        except ValueError:
            said = ""
        raise PushError(
            f"{error.code} {said or error.reason}", not_open=error.code == 409
        ) from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise PushError(str(error)) from error


def authorised(header: str, secret: str) -> bool:
    return hmac.compare_digest(header.encode(), f"Bearer {secret}".encode())


def add_routes(chat: Blueprint, channel: WebInput) -> None:
    """The push route of the web channel's blueprint."""

    @chat.route(PATH, methods=["POST"])
    async def push_message(request: Request) -> HTTPResponse:
        secret = get_settings().web_push_secret
        if not secret:
            return response.json({"error": "pushing is off (WEB_PUSH_SECRET)"}, status=404)
        if not authorised(request.headers.get("Authorization", ""), secret):
            return response.json({"error": "unauthorized"}, status=401)
        try:
            body: Any = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        conversation, name = body.get("conversation_id"), body.get("message")
        if not isinstance(conversation, str) or not conversation.startswith(PREFIX):
            return response.json({"error": "not a website chat"}, status=400)
        if name not in MESSAGES:
            return response.json({"error": "unknown message"}, status=400)
        sockets = await channel.push(conversation, MESSAGES[name](), name)
        if not sockets:
            return response.json({"error": "the chat is not open"}, status=409)
        return response.json({"sockets": sockets})
