"""The real-wording corpus in tests/data/real/: loading it and its split by source page.

A row belongs to the LOCKED half when the first hex digit of the SHA-256 of its page is 0-7,
otherwise to the TRAIN half. The page is the source URL, or for the few sheets published at
several addresses one of them (the `page` column, empty for every other row). So the split is
by page, not by message: wording from one thread or one sheet never sits on both sides.
Only TRAIN rows may feed training data or tuning; LOCKED rows are read only to measure.

A third set, FRESH (fresh.tsv, single messages only), was collected later by someone who had not
seen the others, from pages neither half uses: it is read only as totals, never row by row while
tuning, so that it still measures what the locked half, read too often, no longer can.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bot.settings import PROJECT_ROOT

REAL = PROJECT_ROOT / "tests" / "data" / "real"
MESSAGES = REAL / "messages.tsv"
FRESH = REAL / "fresh.tsv"
CONVERSATIONS = REAL / "conversations.yml"
SPLITS = ("train", "locked")  # the two halves; "fresh" is a set of its own


def split_of(page: str) -> str:
    """'locked' or 'train', decided by the source page alone."""
    digest = hashlib.sha256(page.strip().encode()).hexdigest()
    return "locked" if digest[0] in "01234567" else "train"


@dataclass(frozen=True)
class Message:
    id: str
    page: str
    source_url: str
    text: str
    topic: str
    flag: str  # report | lookalike | none
    tier: str  # emergency | urgent for reports, "" otherwise
    symptom: str

    @property
    def split(self) -> str:
        return split_of(self.page)


@dataclass(frozen=True)
class Turn:
    user: str
    expect: str


@dataclass(frozen=True)
class Conversation:
    id: str
    page: str
    source_url: str
    kind: str
    turns: List[Turn] = field(default_factory=list)

    @property
    def split(self) -> str:
        return split_of(self.page)


def load_messages(split: Optional[str] = None, path: Optional[Path] = None) -> List[Message]:
    """The messages of one split ("train", "locked", "fresh"), or of both halves ("all")."""
    if path is None:
        path = FRESH if split == "fresh" else MESSAGES
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    messages = [
        Message(
            id=r["id"],
            page=r["page"] or r["source_url"],
            source_url=r["source_url"],
            text=r["text"],
            topic=r["topic"].strip(),
            flag=(r["flag"] or "none").strip(),
            tier=(r["tier"] or "").strip(),
            symptom=(r["symptom"] or "").strip(),
        )
        for r in rows
    ]
    if split == "fresh":
        return messages
    return [m for m in messages if split in (None, "all", m.split)]


def load_conversations(
    split: Optional[str] = None, path: Path = CONVERSATIONS
) -> List[Conversation]:
    if split == "fresh":
        return []  # the fresh set has single messages only
    raw: List[Dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    conversations = [
        Conversation(
            id=str(c["id"]),
            page=str(c.get("page") or c["source_url"]),
            source_url=str(c["source_url"]),
            kind=str(c.get("kind", "")),
            turns=[Turn(str(t["user"]), str(t["expect"])) for t in c["turns"]],
        )
        for c in raw
    ]
    return [c for c in conversations if split in (None, "all", c.split)]
