"""The trained model: where it lives and whether it is stale.

A model is stale when any file it is trained from has changed since it was
trained; a fingerprint of those files is kept beside the model.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Iterable, List

from bot.settings import PROJECT_ROOT

MODEL_DIR = PROJECT_ROOT / "models"
MODEL_NAME = "assistant"
MODEL_PATH = MODEL_DIR / f"{MODEL_NAME}.tar.gz"
FINGERPRINT_PATH = MODEL_DIR / f"{MODEL_NAME}.fingerprint"
TRAINING_INPUTS = ("config.yml", "domain.yml", "data")  # bot/nlu components are not trained


def _files(root: Path, inputs: Iterable[str]) -> List[Path]:
    found: List[Path] = []
    for name in inputs:
        path = root / name
        if path.is_dir():
            found.extend(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        elif path.is_file():
            found.append(path)
    return sorted(found)


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    """A hash of every file the model is trained from, names and contents."""
    digest = hashlib.sha256()
    for path in _files(root, TRAINING_INPUTS):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def is_stale() -> bool:
    """True when there is no model or its training files have changed."""
    if not MODEL_PATH.exists() or not FINGERPRINT_PATH.exists():
        return True
    return FINGERPRINT_PATH.read_text().strip() != fingerprint()


def train(force: bool = False) -> bool:
    """Train the model if it is stale (or forced). Returns True when it trained."""
    if not force and not is_stale():
        return False
    stamp = fingerprint()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.launch",  # rasa, with the known third-party warnings filtered
            "rasa",
            "train",
            "--fixed-model-name",
            MODEL_NAME,
            "--out",
            str(MODEL_DIR),
        ],
        cwd=PROJECT_ROOT,
        check=True,
    )
    FINGERPRINT_PATH.write_text(stamp + "\n")
    return True
