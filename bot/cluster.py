"""The scale-out layout on one machine: `python -m bot serve --replicas N` (`make cluster`).

PostgreSQL, Redis and nginx from the Debian packages (`apt-get install postgresql
redis-server nginx`), started as children under var/cluster/ on loopback, then the assistant:

    nginx :5005 -- REST and SMS round-robin, website chat by a consistent hash of the client
      |-> N Rasa servers :5101.. (`rasa run`, tracker store on PostgreSQL, lock store on Redis)
      |     '-> nginx :5154 -> 2 action servers :5155, :5156 (stateless)
      '-- 1 worker :5056 (notifications, reconciliation, retention, staff page)

Each service writes its log to var/cluster/logs/<name>.log. Ctrl-C stops them in the reverse
order (the children run in their own session, so the terminal's Ctrl-C reaches only this
process). A service that exits is started again, as `python -m bot serve` does. PostgreSQL
keeps its data between runs (var/cluster/postgres); Redis keeps nothing (locks and the chat's
message queue only). PostgreSQL refuses to run as root: as root it runs as the `postgres`
user that the Debian package creates.

The same layout on real hosts: deploy/ (docker-compose.yml and systemd units).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from bot import endpoints
from bot.model import MODEL_PATH
from bot.servers import (
    action_server_command,
    endpoints_file,
    local_origins,
    rasa_server_command,
    server_env,
    wait_for,
)
from bot.settings import PROJECT_ROOT

DIRECTORY = PROJECT_ROOT / "var" / "cluster"
DATABASE = "assistant"
DATABASE_USER = "assistant"


@dataclass(frozen=True)
class Ports:
    """Every port of the layout; the defaults put nginx where `make run` has the Rasa server."""

    public: int = 5005
    rasa: tuple = (5101, 5102)
    actions_proxy: int = 5154
    actions: tuple = (5155, 5156)
    staff: int = 5056
    postgres: int = 55432
    redis: int = 56379

    @classmethod
    def defaults(cls, replicas: int, public: int = 5005) -> Ports:
        return cls(public=public, rasa=tuple(5101 + i for i in range(replicas)))


def _binary(name: str, *places: str) -> str:
    for pattern in places:
        for found in sorted(glob.glob(pattern), reverse=True):
            if os.access(found, os.X_OK):
                return found
    on_path = shutil.which(name)
    if not on_path:
        raise FileNotFoundError(
            f"{name} is not installed: apt-get install -y postgresql redis-server nginx"
        )
    return on_path


def binaries() -> Dict[str, str]:
    """The servers' programs; FileNotFoundError names the Debian packages when one is missing."""
    pg = "/usr/lib/postgresql/*/bin/"
    return {
        "initdb": _binary("initdb", pg + "initdb"),
        "postgres": _binary("postgres", pg + "postgres"),
        "redis-server": _binary("redis-server"),
        "nginx": _binary("nginx", "/usr/sbin/nginx"),
    }


def _answers(url: str, timeout: float) -> Callable[[subprocess.Popen], None]:
    """A readiness check: `url` answers 200 before `timeout` seconds, the process alive."""
    return lambda process: wait_for(url, timeout, process)


def _traversable(path: Path) -> None:
    """Let the postgres user pass through the directories above its data (a private tmp
    directory is 700): the search bit only, nothing becomes readable."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _as_user(user: Optional[str]) -> Dict[str, Any]:
    """Popen's arguments to run as `user` with its own group and none of root's."""
    return {"user": user, "group": user, "extra_groups": []} if user else {}


def _as_root() -> bool:
    return os.geteuid() == 0


@dataclass
class Service:
    """One child process: how to start it and how to know it is ready."""

    name: str
    command: List[str]
    ready: Callable[[subprocess.Popen], None]
    env: Optional[Dict[str, str]] = None
    user: Optional[str] = None
    stop_signal: int = 15
    process: Optional[subprocess.Popen] = None


@dataclass
class Cluster:
    """The whole layout (see module). start() brings it up in order, stop() takes it down."""

    replicas: int = 2
    directory: Path = DIRECTORY
    ports: Optional[Ports] = None
    model: Path = MODEL_PATH
    extra_env: Dict[str, str] = field(default_factory=dict)
    # more `rasa run` options (tests: --enable-api --auth-token, to read trackers back)
    rasa_args: List[str] = field(default_factory=list)
    services: Dict[str, Service] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.layout: Ports = self.ports or Ports.defaults(self.replicas)
        self.directory = self.directory.resolve()
        self.logs = self.directory / "logs"
        self.bin = binaries()

    # -- addresses -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The assistant's public address (nginx)."""
        return f"http://127.0.0.1:{self.layout.public}"

    @property
    def database_url(self) -> str:
        return f"postgresql://{DATABASE_USER}@127.0.0.1:{self.layout.postgres}/{DATABASE}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.layout.redis}/0"

    def rasa_url(self, replica: int) -> str:
        return f"http://127.0.0.1:{self.layout.rasa[replica]}"

    # -- the environment -------------------------------------------------------------------

    def env(self) -> Dict[str, str]:
        """The assistant's environment: the scale-out profile and the pool sizes that let
        every Rasa server fit in PostgreSQL's connections."""
        pool, overflow = endpoints.pool_sizes(self.replicas)
        origins = local_origins(self.layout.public)
        extra = {
            "ASSISTANT_DB": str(self.directory / "assistant.db"),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.layout.actions_proxy}/webhook",
            "STAFF_PORT": str(self.layout.staff),
            **self.extra_env,
        }
        for name, size in (("SQL_POOL_SIZE", pool), ("SQL_MAX_OVERFLOW", overflow)):
            if not os.environ.get(name, "").strip():  # the clinic's own values win
                extra.setdefault(name, str(size))
        if not extra.get("WEB_ALLOWED_ORIGINS", "").strip():
            extra["WEB_ALLOWED_ORIGINS"] = " ".join(origins)
        return server_env(self.layout.actions[0], extra)

    # -- the services ----------------------------------------------------------------------

    def _postgres(self) -> Service:
        data = self.directory / "postgres"
        sockets = self.directory / "run"
        user = "postgres" if _as_root() else None
        if not (data / "PG_VERSION").exists():
            data.mkdir(parents=True, exist_ok=True)
            sockets.mkdir(parents=True, exist_ok=True)
            if user:
                shutil.chown(data, user, user)
                shutil.chown(sockets, user, user)
                _traversable(data)
            subprocess.run(
                [
                    self.bin["initdb"],
                    "-D",
                    str(data),
                    "-U",
                    DATABASE_USER,
                    "--auth=trust",  # loopback only, this machine's users
                    "-E",
                    "UTF8",
                    "--no-instructions",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                **_as_user(user),
            )
        return Service(
            "postgres",
            [
                self.bin["postgres"],
                "-D",
                str(data),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.layout.postgres),
                "-k",
                str(sockets),
                "-c",
                f"max_connections={endpoints.MAX_CONNECTIONS}",
            ],
            self._postgres_ready,
            user=user,
            stop_signal=2,  # SIGINT: PostgreSQL's fast shutdown
        )

    def _postgres_ready(self, process: subprocess.Popen) -> None:
        import psycopg2

        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"postgres exited with code {process.returncode}")
            try:
                conn = psycopg2.connect(
                    host="127.0.0.1",
                    port=self.layout.postgres,
                    user=DATABASE_USER,
                    dbname="postgres",
                )
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("select 1 from pg_database where datname = %s", (DATABASE,))
            if cursor.fetchone() is None:
                cursor.execute(f"create database {DATABASE}")
        conn.close()

    def _redis(self) -> Service:
        data = self.directory / "redis"
        data.mkdir(parents=True, exist_ok=True)
        return Service(
            "redis",
            [
                self.bin["redis-server"],
                "--port",
                str(self.layout.redis),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(data),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            self._redis_ready,
        )

    def _redis_ready(self, process: subprocess.Popen) -> None:
        import redis

        client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {process.returncode}")
            try:
                client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def nginx_conf(self) -> str:
        """nginx in front: REST and SMS round-robin over the Rasa servers, the website chat
        (socket.io, whose long-polling needs every request of a browser on one server) by a
        consistent hash of the client's address, and the action servers behind their own
        port. nginx never sends a POST that reached one server to another one: a turn is
        never run twice."""
        ports = self.layout
        root = self.directory / "nginx"
        rasa = "\n".join(
            f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports.rasa
        )
        actions = "\n".join(
            f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports.actions
        )
        temp = "\n".join(
            f"  {kind}_temp_path {root}/tmp/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        proxied = """      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 300s;"""
        return f"""# Generated by bot/cluster.py; deploy/nginx.conf is the version for real hosts.
{"user root;" if _as_root() else ""}
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
{temp}
  map $http_upgrade $connection_upgrade {{ default upgrade; "" close; }}
  upstream rasa {{
{rasa}
    keepalive 16;
  }}
  upstream rasa_web_chat {{
    hash $remote_addr consistent;
{rasa}
  }}
  upstream actions {{
{actions}
    keepalive 8;
  }}
  server {{
    listen 127.0.0.1:{ports.public};
    client_max_body_size 1m;
    location /webhooks/web/ {{
      proxy_pass http://rasa_web_chat;
{proxied}
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
    }}
    location /webhooks/ {{
      proxy_pass http://rasa;
{proxied}
      proxy_set_header Connection "";
    }}
    location / {{ return 404; }}
  }}
  server {{
    listen 127.0.0.1:{ports.actions_proxy};
    location / {{
      proxy_pass http://actions;
{proxied}
      proxy_set_header Connection "";
    }}
  }}
}}
"""

    def _nginx(self) -> Service:
        root = self.directory / "nginx"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (root / "tmp" / kind).mkdir(parents=True, exist_ok=True)
        conf = root / "nginx.conf"
        conf.write_text(self.nginx_conf())
        return Service(
            "nginx",
            [self.bin["nginx"], "-p", str(root), "-c", str(conf), "-e", str(root / "error.log")],
            _answers(f"{self.url}/webhooks/rest/", 30),
        )

    def _assistant(self, env: Dict[str, str]) -> List[Service]:
        ports = self.layout
        actions = [
            Service(
                f"actions-{i + 1}",
                action_server_command(port),
                _answers(f"http://127.0.0.1:{port}/health", 120),
                env,
            )
            for i, port in enumerate(ports.actions)
        ]
        worker = Service(
            "worker",
            [sys.executable, "-m", "bot", "worker"],
            _answers(f"http://127.0.0.1:{ports.staff}/health", 60),
            env,
        )
        endpoints_path = endpoints_file(env)
        rasa = [
            Service(
                f"rasa-{i + 1}",
                [*rasa_server_command(port, self.model, endpoints_path), *self.rasa_args],
                _answers(f"http://127.0.0.1:{port}/webhooks/rest/", 300),
                env,
            )
            for i, port in enumerate(ports.rasa)
        ]
        return [*actions, worker, *rasa]

    # -- running ---------------------------------------------------------------------------

    def _spawn(self, service: Service) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"{service.name}.log").open("a") as log:
            service.process = subprocess.Popen(
                service.command,
                cwd=PROJECT_ROOT,
                env=service.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **_as_user(service.user),  # Ctrl-C reaches the launcher, which stops in order
            )
        self.services[service.name] = service

    def start_service(self, service: Service) -> None:
        self._spawn(service)
        self._wait_ready(service)

    def _wait_ready(self, service: Service) -> None:
        assert service.process is not None
        try:
            service.ready(service.process)
        except Exception as error:
            raise RuntimeError(
                f"{service.name} did not start ({error}); see {self._log(service)}"
            ) from error

    def _log(self, service: Service) -> Path:
        return self.logs / f"{service.name}.log"

    def start(self) -> Cluster:
        """PostgreSQL and Redis, then the action servers and the worker, then every Rasa
        server at once (each loads the model: the slow part), then nginx."""
        self.directory.mkdir(parents=True, exist_ok=True)
        try:
            self.start_service(self._postgres())
            self.start_service(self._redis())
            env = self.env()
            services = self._assistant(env)
            for service in services:
                self._spawn(service)
            for service in services:
                self._wait_ready(service)
            self.start_service(self._nginx())
        except BaseException:
            self.stop()
            raise
        return self

    def restart(self, name: str) -> None:
        """Stop one service and start it again (tests: Redis restarting mid-conversation)."""
        service = self.services[name]
        self.stop(name)
        self.start_service(service)

    def supervise(self, check_every: float = 1.0, longest_wait: float = 60.0) -> None:
        """Start again any service that exits, waiting longer after each crash in a row."""
        wait = {name: 1.0 for name in self.services}
        since = {name: time.monotonic() for name in self.services}
        while True:
            time.sleep(check_every)
            for name, service in list(self.services.items()):
                if service.process is not None and service.process.poll() is None:
                    if time.monotonic() - since[name] >= longest_wait:
                        wait[name] = 1.0
                    continue
                code = service.process.returncode if service.process else "none"
                print(
                    f"{name} stopped (exit code {code}); starting it again in {wait[name]:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
                time.sleep(wait[name])
                wait[name] = min(wait[name] * 2, longest_wait)
                try:
                    self.start_service(service)
                except RuntimeError as error:
                    print(error, file=sys.stderr, flush=True)
                since[name] = time.monotonic()

    def stop(self, name: Optional[str] = None) -> None:
        """Stop one service, or all in the reverse order of their start."""
        names = [name] if name else list(reversed(self.services))
        for key in names:
            service = self.services.get(key)
            process = service.process if service else None
            if process is None or process.poll() is not None:
                continue
            process.send_signal(service.stop_signal)  # type: ignore[union-attr]
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def describe(self) -> str:
        ports = self.layout
        rasa = ", ".join(str(p) for p in ports.rasa)
        return (
            f"\nThe assistant is running on {self.replicas} Rasa servers behind nginx.\n"
            f"  REST: POST {self.url}/webhooks/rest/webhook "
            '{"sender": "me", "message": "hello"}\n'
            f"  Website chat (demo clinic page): {self.url}/webhooks/web/\n"
            f"  Staff queue: http://127.0.0.1:{ports.staff}/\n"
            f"  Rasa servers on {rasa}; action servers on "
            f"{', '.join(str(p) for p in ports.actions)} (nginx {ports.actions_proxy})\n"
            f"  PostgreSQL {self.database_url}\n  Redis {self.redis_url}\n"
            f"  Logs: {self.logs}/<service>.log\n"
            "  Ctrl-C here stops everything.\n"
        )
