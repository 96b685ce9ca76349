"""Turns the Rasa server answered but could not store: one JSON file per conversation.

When Rasa's tracker store cannot write a turn (the SQLite file stayed locked past every
retry), `bot.tracker_store` keeps the conversation's events here, beside the database,
until a later save stores them. The reconciler (`bot.reconcile`) reads these files too,
so a warning sign in such a turn is still escalated. Files hold patient words: they are
readable by the owner only and deleted as soon as the turn is stored.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple


def directory(db: Path) -> Path:
    return Path(db).parent / (Path(db).name + ".unsaved")


def _file(db: Path, sender_id: str) -> Path:
    return directory(db) / (hashlib.sha256(sender_id.encode()).hexdigest()[:32] + ".json")


def keep(db: Path, sender_id: str, events: List[Dict[str, Any]]) -> None:
    """Write (atomically) the conversation's events that are not in the database."""
    folder = directory(db)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = _file(db, sender_id)
    temporary = target.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump({"sender_id": sender_id, "events": events}, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, target)


def forget(db: Path, sender_id: str) -> None:
    """The conversation's turns are stored now."""
    _file(db, sender_id).unlink(missing_ok=True)


def kept(db: Path) -> Iterator[Tuple[str, List[Dict[str, Any]]]]:
    """Every conversation with turns not yet in the database: (sender id, events)."""
    folder = directory(db)
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # replaced or removed while we read it
        if isinstance(data, dict) and isinstance(data.get("sender_id"), str):
            yield data["sender_id"], list(data.get("events") or [])
