"""Start the assistant's three processes as children: the action server, the worker
(notifications, reconciliation, staff page) and the Rasa server.

Used by `python -m bot serve` and by the end-to-end tests, so both run the
assistant exactly the same way.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot import endpoints, warnings_filter
from bot.model import MODEL_PATH
from bot.settings import PROJECT_ROOT, get_settings


def server_env(action_port: int = 5055, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment the servers run with: this one (they read their settings from it
    through bot.settings) plus quiet defaults."""
    env = dict(os.environ)
    for name, value in warnings_filter.ENVIRONMENT.items():
        env.setdefault(name, value)
    env["PYTHONWARNINGS"] = warnings_filter.python_warnings(env.get("PYTHONWARNINGS", ""))
    env.setdefault("ASSISTANT_DB", str(get_settings().assistant_db))
    env.setdefault("ACTION_ENDPOINT_URL", f"http://127.0.0.1:{action_port}/webhook")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONPATH", str(PROJECT_ROOT))
    # the Rasa server sends it (endpoints.yml), the action server requires it; one made up
    # at start-up when unset, so a local run needs no configuration
    if not env.get("ACTION_SERVER_SECRET", "").strip():
        env["ACTION_SERVER_SECRET"] = secrets.token_urlsafe(32)
    # the worker shows the patient follow-up in an open website chat through the Rasa
    # server (bot/channels/web_push.py); both processes get the same secret
    if not env.get("WEB_PUSH_SECRET", "").strip():
        env["WEB_PUSH_SECRET"] = secrets.token_urlsafe(32)
    # credentials.yml names these; Rasa refuses to start when a ${VAR} is undefined
    env.setdefault("TWILIO_AUTH_TOKEN", "")
    env.setdefault("TWILIO_WEBHOOK_URL", "")
    env.update(extra or {})
    # the scale-out profile (bot/endpoints.py): the generated file names the password
    database_url = env.get("DATABASE_URL", "").strip()
    password = endpoints.database_password(database_url)
    if password:
        env.setdefault(endpoints.PASSWORD_VARIABLE, password)
    if database_url:
        # Rasa's own defaults (50 + 100 overflow) let one server take every connection
        for name, size in zip(
            ("SQL_POOL_SIZE", "SQL_MAX_OVERFLOW"), endpoints.pool_sizes(1), strict=True
        ):
            if not env.get(name, "").strip():  # unset or empty (as a copied .env.example has)
                env[name] = str(size)
    Path(env["ASSISTANT_DB"]).parent.mkdir(parents=True, exist_ok=True)
    return env


def endpoints_file(env: Dict[str, str]) -> Path:
    """endpoints.yml, or the scale-out profile's file generated beside ASSISTANT_DB from the
    settings in `env` (bot/endpoints.py)."""
    from dataclasses import replace

    settings = replace(
        get_settings(),
        database_url=env.get("DATABASE_URL", "").strip() or None,
        redis_url=env.get("REDIS_URL", "").strip() or None,
    )
    return endpoints.endpoints_file(settings, Path(env["ASSISTANT_DB"]).parent)


def local_origins(port: int) -> List[str]:
    """The origins a browser shows for the Rasa server on this machine."""
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


def action_server_command(port: int) -> List[str]:
    return [
        sys.executable,
        "-m",
        "bot.launch",
        "bot.action_server",
        "--actions",
        "actions",
        "--port",
        str(port),
    ]


def rasa_server_command(
    port: int, model: Path = MODEL_PATH, endpoints_path: Path = endpoints.BASE
) -> List[str]:
    return [
        sys.executable,
        "-m",
        "bot.launch",
        "rasa",
        "run",
        "--model",
        str(model),
        "--endpoints",
        str(endpoints_path),
        "--credentials",
        "credentials.yml",
        "--port",
        str(port),
        "--interface",
        get_settings().rasa_interface,
    ]


def wait_for(url: str, timeout: float, process: Optional[subprocess.Popen] = None) -> None:
    """Poll `url` until it answers 200, the process dies, or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"server exited with code {process.returncode} before {url} answered"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@dataclass
class Servers:
    """The running processes (action server, worker, Rasa server); stop() ends them all."""

    rasa_port: int
    action_port: int
    env: Dict[str, str]
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)
    model: Path = MODEL_PATH

    def __post_init__(self) -> None:
        # the website chat accepts browsers on the Rasa server's own origin unless told more
        # (an empty value, as a copied .env.example has, counts as not told)
        if not self.env.get("WEB_ALLOWED_ORIGINS", "").strip():
            self.env["WEB_ALLOWED_ORIGINS"] = " ".join(local_origins(self.rasa_port))
        if not self.env.get("WEB_PUSH_URL", "").strip():
            self.env["WEB_PUSH_URL"] = f"http://127.0.0.1:{self.rasa_port}/webhooks/web/push"

    def start_actions(self, **popen: object) -> None:
        self.processes["actions"] = subprocess.Popen(
            action_server_command(self.action_port),
            cwd=PROJECT_ROOT,
            env=self.env,
            **popen,  # type: ignore[call-overload]
        )
        wait_for(f"http://127.0.0.1:{self.action_port}/health", 120, self.processes["actions"])

    def start_worker(self, **popen: object) -> None:
        self.processes["worker"] = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            cwd=PROJECT_ROOT,
            env=self.env,
            **popen,  # type: ignore[call-overload]
        )
        port = self.env.get("STAFF_PORT", "5056")
        wait_for(f"http://127.0.0.1:{port}/health", 60, self.processes["worker"])

    def start_rasa(self, **popen: object) -> None:
        self.processes["rasa"] = subprocess.Popen(
            rasa_server_command(self.rasa_port, self.model, endpoints_file(self.env)),
            cwd=PROJECT_ROOT,
            env=self.env,
            **popen,  # type: ignore[call-overload]
        )
        wait_for(f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/", 300, self.processes["rasa"])

    def supervise(self, check_every: float = 1.0, longest_wait: float = 60.0) -> None:
        """Keep every started child running until interrupted: one that exits is started
        again after a wait that doubles with each crash in a row (1 s up to `longest_wait`)
        and goes back to 1 s once it has run for `longest_wait`. The others keep running."""
        starts = {
            "actions": self.start_actions,
            "worker": self.start_worker,
            "rasa": self.start_rasa,
        }
        names = [name for name in starts if name in self.processes]
        wait = {name: 1.0 for name in names}
        since = {name: time.monotonic() for name in names}
        while True:
            time.sleep(check_every)
            for name in names:
                process = self.processes.get(name)
                if process is not None and process.poll() is None:
                    if time.monotonic() - since[name] >= longest_wait:
                        wait[name] = 1.0
                    continue
                code = process.returncode if process is not None else "none"
                print(
                    f"{name} stopped (exit code {code}); starting it again in {wait[name]:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
                time.sleep(wait[name])
                wait[name] = min(wait[name] * 2, longest_wait)
                try:
                    starts[name]()
                except (RuntimeError, TimeoutError) as error:
                    print(f"{name} did not start: {error}", file=sys.stderr, flush=True)
                    self.stop(name)
                since[name] = time.monotonic()

    def stop(self, name: Optional[str] = None) -> None:
        for key in [name] if name else list(self.processes):
            process = self.processes.pop(key, None)
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
