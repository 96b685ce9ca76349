"""Text for SMS: GSM-7 characters, lengths, joining bot messages, numbered choices, TwiML.

Pure functions, shared by the SMS input channel and the outbound sender.

- A text with one character outside GSM-7 (a curly quote, an emoji, a long
  dash) is sent as UCS-2: 70 characters a segment instead of 160. `to_gsm7`
  replaces such characters with plain ones and drops what has no plain form.
- Several bot messages become one text while they fit in two segments
  (`SOFT_LIMIT`, 306 characters); no text is ever longer than `HARD_LIMIT`
  (1,600 characters, Twilio's maximum).
- Buttons become numbered choices ("Reply 1 for Ice packs, 2 for Pain
  medicine."); the payloads stay with the channel, never in the text.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from twilio.twiml.messaging_response import MessagingResponse

from bot import replies
from bot.escalations import normalise_phone

# Two concatenated GSM-7 segments carry 2 x 153 = 306 characters (each part gives 7 to
# the header that joins them), so joined texts stay within 306: the issue's "320
# characters, 2 segments", without a 307-320 character text that bills as three.
SOFT_LIMIT = 306
HARD_LIMIT = 1600
SEPARATOR = "\n\n"

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€")
GSM7 = GSM7_BASIC | GSM7_EXTENSION

_REPLACEMENTS: Dict[str, str] = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4`", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043", "-"),
    **dict.fromkeys("\u2022\u00b7\u2023\u25e6\u25cf\u25aa\u2219\u25a0\u25cb", "-"),
    "\u2026": "...",
    "\u2044": "/",
    "\u00d7": "x",
    "\u00f7": "/",
    "\u00b0": "",
    "\u00a9": "(c)",
    "\u00ae": "(R)",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2192": "->",
    "\t": " ",
}
_SPACES = re.compile(r"[ ]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r" +([.,!?;:])")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _plain(char: str) -> str:
    """One character as GSM-7 text: itself, a plain stand-in, or nothing."""
    if char in GSM7 and char != "\r":
        return char
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    compatible = unicodedata.normalize("NFKC", char)
    if compatible != char:
        mapped = "".join(c if c in GSM7 else _REPLACEMENTS.get(c, "\0") for c in compatible)
        if "\0" not in mapped:
            return mapped
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
    )
    if stripped and all(c in GSM7 for c in stripped):
        return stripped
    if unicodedata.category(char).startswith("Z"):
        return " "
    return ""


def to_gsm7(text: str) -> str:
    """`text` using only GSM-7 characters, so it is sent at 160 characters a segment."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    plain = "".join(_plain(c) for c in text)
    lines = [
        _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", line)).strip() for line in plain.split("\n")
    ]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def is_gsm7(text: str) -> bool:
    return all(c in GSM7 for c in text)


def gsm7_length(text: str) -> int:
    """Length in GSM-7 septets: characters of the extension table count twice."""
    return sum(2 if c in GSM7_EXTENSION else 1 for c in text)


def segments(text: str) -> int:
    """How many SMS segments `text` takes (GSM-7 if it can, UCS-2 otherwise)."""
    if is_gsm7(text):
        size, single, multi = gsm7_length(text), 160, 153
    else:
        size = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if size <= single:
        return 1
    return math.ceil(size / multi)


def _cut(word: str, limit: int) -> List[str]:
    """A word longer than `limit` septets, cut into pieces that fit."""
    pieces, current = [], ""
    for char in word:
        if gsm7_length(current + char) > limit:
            pieces.append(current)
            current = ""
        current += char
    return pieces + [current] if current else pieces


def _split_long(text: str, limit: int) -> List[str]:
    """Cut a text longer than `limit` at sentence ends where it can, else between words."""
    units: List[str] = []
    for sentence in _SENTENCE_END.split(text):
        if gsm7_length(sentence) <= limit:
            units.append(sentence)
            continue
        for word in sentence.split():
            units.extend(_cut(word, limit) if gsm7_length(word) > limit else [word])
    pieces: List[str] = []
    current = ""
    for unit in units:
        joined = f"{current} {unit}" if current else unit
        if gsm7_length(joined) <= limit:
            current = joined
        else:
            pieces.append(current)
            current = unit
    return pieces + [current] if current else pieces


def pack(
    parts: Iterable[str], soft: int = SOFT_LIMIT, hard: int = HARD_LIMIT, sep: str = SEPARATOR
) -> List[str]:
    """Join message parts into as few texts as fit `soft`; a longer part goes alone, and
    nothing is longer than `hard`. Parts are normalised to GSM-7 first."""
    texts: List[str] = []
    current = ""
    for raw in parts:
        part = to_gsm7(raw or "")
        if not part:
            continue
        for piece in _split_long(part, hard) if gsm7_length(part) > hard else [part]:
            joined = f"{current}{sep}{piece}" if current else piece
            if gsm7_length(joined) <= soft:
                current = joined
                continue
            if current:
                texts.append(current)
            current = piece
    if current:
        texts.append(current)
    return texts


# -- numbered choices ------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """A button offered as a number: what the patient sees, and what a reply sends."""

    number: int
    title: str
    payload: str


@dataclass
class Rendered:
    """Bot messages as SMS parts, with the choices they offer."""

    parts: List[str] = field(default_factory=list)
    choices: List[Choice] = field(default_factory=list)


def _title(button: Dict[str, Any]) -> str:
    return to_gsm7(str(button.get("title") or "")).rstrip(" .?!:;,")


def _payload(button: Dict[str, Any], title: str) -> str:
    """What choosing the button says. Intent payloads ("/greet") are never sent as text:
    the title stands in for them."""
    payload = str(button.get("payload") or "").strip()
    return title if not payload or payload.startswith("/") else payload


def choices_line(choices: Sequence[Choice]) -> str:
    """ "Reply 1 for Ice packs, 2 for Pain medicine." (the words from bot/replies.yml)"""
    offers = ", ".join(replies.say("sms_choice", number=c.number, title=c.title) for c in choices)
    return replies.say("sms_choices", choices=offers) if offers else ""


def render(messages: Iterable[Dict[str, Any]], first_number: int = 1) -> Rendered:
    """Bot messages (Rasa's message dicts) as SMS parts. Only text and button titles
    are used: payloads, intent names, images and custom JSON never reach the patient."""
    rendered = Rendered()
    number = first_number
    for message in messages:
        text = str(message.get("text") or "").strip()
        offered: List[Choice] = []
        for button in message.get("buttons") or message.get("quick_replies") or []:
            if not isinstance(button, dict):
                continue
            title = _title(button)
            if not title:
                continue
            offered.append(Choice(number, title, _payload(button, title)))
            number += 1
        line = choices_line(offered)
        part = "\n".join(p for p in (text, line) if p)
        if part:
            rendered.parts.append(part)
        rendered.choices.extend(offered)
    return rendered


_CHOICE = re.compile(r"^\s*#?(\d{1,2})\s*[.)]?\s*$")


def choice_number(text: str) -> Optional[int]:
    """The number in a reply that is only a number ("2", "2.", "#2"), else None."""
    match = _CHOICE.match(text or "")
    return int(match.group(1)) if match else None


# -- keywords --------------------------------------------------------------------

OPT_OUT = "opt_out"
OPT_IN = "opt_in"
HELP = "help"
_KEYWORDS = {
    **dict.fromkeys(("stop", "stopall", "unsubscribe", "cancel", "end", "quit"), OPT_OUT),
    **dict.fromkeys(("start", "unstop", "yes"), OPT_IN),
    **dict.fromkeys(("help", "info"), HELP),
}


def keyword(body: object) -> Tuple[Optional[str], str]:
    """(kind, word) when the whole message is one of the carrier keywords (any case,
    surrounding spaces and a final "." or "!" allowed); (None, "") otherwise."""
    if not isinstance(body, str):
        return None, ""
    word = body.strip().rstrip(".!").strip().lower()
    kind = _KEYWORDS.get(word)
    return (kind, word) if kind else (None, "")


# -- phone numbers ---------------------------------------------------------------

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def e164(raw: object) -> Optional[str]:
    """A sender's number in E.164 ("+15555550123"), or None when it is not a phone number."""
    if not isinstance(raw, str):
        return None
    compact = re.sub(r"[\s().-]", "", raw.strip())
    if _E164.match(compact):
        return compact
    return normalise_phone(raw) if not re.search(r"[A-Za-z:]", raw) else None


def mask(phone: Optional[str]) -> str:
    """A phone number fit for logs: "+1******0123"."""
    if not phone:
        return "(none)"
    if len(phone) <= 6:
        return "*" * len(phone)
    return phone[:2] + "*" * (len(phone) - 6) + phone[-4:]


_PHONE_LIKE = re.compile(r"\+?\d[\d\s().-]{6,}\d")


def scrub(text: str) -> str:
    """`text` (an error message, say) with every phone-like number masked, for logs."""
    return _PHONE_LIKE.sub(lambda m: mask(re.sub(r"[^\d+]", "", m.group())), text)


# -- TwiML -----------------------------------------------------------------------


def twiml(texts: Sequence[str]) -> str:
    """A TwiML messaging response with one <Message> per text (XML-escaped)."""
    response = MessagingResponse()
    for text in texts:
        response.message(text)
    return str(response)
