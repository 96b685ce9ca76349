"""Cleaning of what a patient sends, shared by every input channel.

Whatever arrives (empty, huge, binary, markup, a leading "/") becomes plain
text the NLU can read, or is marked as unusable so the channel can answer
kindly without touching the conversation.

A leading "/" is removed because Rasa reads "/intent{...}" as a direct intent
with slot values; patients' text must never be able to do that.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

MAX_CHARS = 2000

_BLOCKS = re.compile(r"<(script|style)\b.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z!][^<>]*>")
_SPACE = re.compile(r"\s+")
_LEADING_COMMAND = re.compile(r"^[\s/\\]+")


@dataclass(frozen=True)
class Incoming:
    """A patient's message made safe to hand to the assistant."""

    text: str
    usable: bool
    truncated: bool = False


def _printable(char: str) -> bool:
    category = unicodedata.category(char)
    return not (category.startswith("C") and char not in "\n\t")


def clean_incoming(raw: object) -> Incoming:
    """Turn a raw message into text the assistant can read.

    Unusable means nothing a person could have meant as words is left:
    nothing at all, only control bytes, only emoji or punctuation.
    """
    if not isinstance(raw, str):
        return Incoming(text="", usable=False)
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(c for c in text if _printable(c))
    text = _BLOCKS.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = _SPACE.sub(" ", text).strip()
    text = _LEADING_COMMAND.sub("", text)
    truncated = len(text) > MAX_CHARS
    if truncated:
        cut = text[:MAX_CHARS]
        text = cut.rsplit(" ", 1)[0] if " " in cut[-200:] else cut
    usable = any(c.isalnum() for c in text)
    return Incoming(text=text if usable else "", usable=usable, truncated=truncated)
