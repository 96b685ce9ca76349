"""Cleaning of what a patient sends, shared by every input channel.

Whatever arrives (empty, huge, binary, markup, a leading "/") becomes plain
text the NLU can read, or is marked as unusable so the channel can answer
kindly without touching the conversation.

A leading "/" is removed because Rasa reads "/intent{...}" as a direct intent
with slot values; patients' text must never be able to do that.

The assistant reads at most MAX_CHARS characters for its answer (`cut`); a longer
message is still scanned whole for warning signs (`bot.long_messages`), and
`red_flags` carries what that scan found.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Optional

MAX_CHARS = 2000
RED_FLAG_SCAN = "red_flag_scan"  # UserMessage metadata: warning signs in the whole message

_BLOCKS = re.compile(r"<(script|style)\b.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z!][^<>]*>")
_SPACE = re.compile(r"\s+")
_LEADING_COMMAND = re.compile(r"^[\s/\\]+")
# a message that is only a command ("/restart", '/greet{"topic": "x"}') means nothing a
# patient wrote: it is answered kindly and leaves the conversation (and its topic) alone
_ONLY_COMMAND = re.compile(r"[\s/\\]*[/\\][A-Za-z_][\w.-]*(\{.*\})?\s*", re.DOTALL)


@dataclass(frozen=True)
class Incoming:
    """A patient's message made safe to hand to the assistant."""

    text: str
    usable: bool
    truncated: bool = False
    red_flags: Optional[Dict[str, Any]] = None  # a whole long message's reports: tier, symptoms

    @property
    def metadata(self) -> Optional[Dict[str, Any]]:
        """The UserMessage metadata the red-flag component reads (set by the server only)."""
        return {RED_FLAG_SCAN: self.red_flags} if self.red_flags else None


def _printable(char: str) -> bool:
    category = unicodedata.category(char)
    return not (category.startswith("C") and char not in "\n\t")


def clean_text(raw: str) -> str:
    """The whole message as plain words: no markup, control bytes or leading "/"."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(c for c in text if _printable(c))
    text = _BLOCKS.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = _SPACE.sub(" ", text).strip()
    return _LEADING_COMMAND.sub("", text)


def cut(text: str) -> Incoming:
    """Cleaned text as the assistant reads it: at most MAX_CHARS, ending at a word."""
    truncated = len(text) > MAX_CHARS
    if truncated:
        head = text[:MAX_CHARS]
        text = head.rsplit(" ", 1)[0] if " " in head[-200:] else head
    usable = any(c.isalnum() for c in text)
    return Incoming(text=text if usable else "", usable=usable, truncated=truncated)


def clean_incoming(raw: object) -> Incoming:
    """Turn a raw message into text the assistant can read.

    Unusable means nothing a person could have meant as words is left:
    nothing at all, only control bytes, only emoji or punctuation.
    """
    if not isinstance(raw, str) or _ONLY_COMMAND.fullmatch(unicodedata.normalize("NFKC", raw)):
        return Incoming(text="", usable=False)
    return cut(clean_text(raw))
