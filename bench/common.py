"""Shared pieces: start servers for a model on loopback, read process memory, print tables."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

from bot.model import MODEL_DIR
from bot.servers import Servers, server_env
from bot.settings import PROJECT_ROOT

STOCK_CONFIG = PROJECT_ROOT / "bench" / "stock_config.yml"
STOCK_MODEL = MODEL_DIR / "stock.tar.gz"
OURS_MODEL = MODEL_DIR / "assistant.tar.gz"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (from /proc)."""
    total = 0
    pids = [pid]
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
        pids += [int(p) for p in out.stdout.split()]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def train_stock(force: bool = False) -> float:
    """Train the stock pipeline on our data (once); returns seconds taken (0 if reused)."""
    if STOCK_MODEL.exists() and not force:
        return 0.0
    start = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "train",
            "--config",
            str(STOCK_CONFIG),
            "--fixed-model-name",
            "stock",
            "--out",
            str(MODEL_DIR),
        ],
        cwd=PROJECT_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.monotonic() - start


@contextmanager
def running(model: Path, extra: Optional[Dict[str, str]] = None) -> Iterator[Servers]:
    """Action server, worker and Rasa server for `model` on free loopback ports, with a
    throwaway database and any `extra` settings; stopped on exit."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    action_port = free_port()
    settings = {"ASSISTANT_DB": str(workdir / "assistant.db"), "STAFF_PORT": str(free_port())}
    env = server_env(action_port, {**settings, **(extra or {})})
    servers = Servers(free_port(), action_port, env, model=model)
    log = (workdir / "servers.log").open("w")
    try:
        servers.start_actions(stdout=log, stderr=subprocess.STDOUT)
        servers.start_worker(stdout=log, stderr=subprocess.STDOUT)
        servers.start_rasa(stdout=log, stderr=subprocess.STDOUT)
        yield servers
    finally:
        servers.stop()
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + " |" for r in cells
    ]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def as_dict_rows(rows: List[Dict[str, object]], keys: Sequence[str]) -> List[List[object]]:
    return [[row[k] for k in keys] for row in rows]
