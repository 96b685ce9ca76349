"""The command line: `python -m bot <command>`.

python -m bot train [--force]      train when the model is missing or stale
python -m bot serve [--no-train]   run the action server, the worker and the Rasa server
python -m bot serve --replicas N   the scale-out layout: PostgreSQL, Redis, nginx, N Rasa servers
python -m bot endpoints            write the endpoints file of the settings' profile, print its path
python -m bot chat                 talk to a running assistant in the terminal
python -m bot worker               notifications, reconciliation, retention, staff page
python -m bot escalations ...      the staff's queue: list [--json] [--status S], show, ack,
                                   resolve ID --note "..."
python -m bot purge [--days N]     apply the retention period now ([--dry-run] counts only)
python -m bot content              write the content report for clinicians (results/content.md)
python -m bot staff add NAME --role nurse|admin   a named account for the staff page
python -m bot audit [--escalation ID]            print the audit log
python -m bot checkins ...         check-ins after the procedure: enroll, import, list, show, stop
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import signal
import sys
import urllib.request
from typing import Any, Dict, List, Optional, Sequence

from bot import model
from bot.servers import Servers, server_env
from bot.settings import get_settings


def _train(args: argparse.Namespace) -> int:
    trained = model.train(force=args.force)
    print(f"model {'trained' if trained else 'up to date'}: {model.MODEL_PATH}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    if args.no_train:
        if not model.MODEL_PATH.exists():
            print(
                f"no trained model at {model.MODEL_PATH}; run `python -m bot train`",
                file=sys.stderr,
            )
            return 1
    else:
        model.train()
    if args.replicas:
        return _serve_cluster(args)
    servers = Servers(args.port, args.action_port, server_env(args.action_port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        servers.start_actions()
        servers.start_worker()
        servers.start_rasa()
        print(
            "\nThe assistant is running.\n"
            f"  REST: POST http://127.0.0.1:{args.port}/webhooks/rest/webhook "
            '{"sender": "me", "message": "hello"}\n'
            f"  Website chat (demo clinic page): http://127.0.0.1:{args.port}/webhooks/web/\n"
            f"  Staff queue: http://127.0.0.1:{get_settings().staff_port}/ "
            "(accounts: python -m bot staff add)\n"
            "  Chat in a terminal: make chat   (Ctrl-C here stops all servers)\n"
            "  A server that stops is started again.\n",
            flush=True,
        )
        servers.supervise()
    except KeyboardInterrupt:
        pass
    finally:
        servers.stop()
    return 0


def _serve_cluster(args: argparse.Namespace) -> int:
    from bot.cluster import Cluster, Ports

    try:
        cluster = Cluster(args.replicas, ports=Ports.defaults(args.replicas, args.port))
    except FileNotFoundError as missing:
        print(missing, file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        print(f"starting PostgreSQL, Redis, {args.replicas} Rasa servers and nginx ...", flush=True)
        cluster.start()
        print(cluster.describe(), flush=True)
        cluster.supervise()
    except KeyboardInterrupt:
        pass
    except RuntimeError as failed:
        print(failed, file=sys.stderr)
        return 1
    finally:
        print("stopping ...", flush=True)
        cluster.stop()
    return 0


def _endpoints(args: argparse.Namespace) -> int:
    from bot.endpoints import endpoints_file

    settings = get_settings()
    print(endpoints_file(settings, settings.assistant_db.parent))
    return 0


def _post(url: str, sender: str, text: str) -> List[Dict[str, Any]]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read())


def _chat(args: argparse.Namespace) -> int:
    url = f"{args.url.rstrip('/')}/webhooks/rest/webhook"
    sender = "terminal-" + secrets.token_hex(8)
    choices: List[str] = []
    print("Type a question (empty line or Ctrl-D to quit). Numbers pick a button.")
    while True:
        try:
            text = input("you> ").strip()
        except EOFError:
            return 0
        if not text:
            return 0
        if text.isdigit() and 0 < int(text) <= len(choices):
            text = choices[int(text) - 1]
        choices = []
        for message in _post(url, sender, text):
            if message.get("text"):
                print(f"bot> {message['text']}")
            for button in message.get("buttons") or []:
                choices.append(button["payload"])
                print(f"     {len(choices)}. {button['title']}")


def _worker(args: argparse.Namespace) -> int:
    import logging

    from bot import worker
    from bot.store import get_store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        worker.run(get_store(), get_settings())
    return 0


def _print_escalation(row: Dict[str, Any]) -> None:
    print(
        f"#{row['id']:<5} {row['tier']:<9} {row['status']:<12} {row['created_at']}  "
        f"{row['channel']:<8} {', '.join(row['symptoms']) or '-':<30} "
        f"callback {row.get('callback_number') or '-'}"
    )


def _escalations(args: argparse.Namespace) -> int:
    from bot.staff_cli import audited
    from bot.store import get_store

    store = get_store()
    audited(store, args.action, getattr(args, "id", None))
    if args.action == "list":
        rows = store.list(args.status)
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            for row in rows:
                _print_escalation(row)
            print(f"{len(rows)} escalation(s)")
        return 0
    found = store.get(args.id)
    if found is None:
        print(f"no escalation #{args.id}", file=sys.stderr)
        return 1
    if args.action == "show":
        print(json.dumps(found, indent=2))
        return 0
    done = store.acknowledge(args.id) if args.action == "ack" else store.resolve(args.id, args.note)
    print(f"#{args.id} {'updated' if done else 'unchanged (status was ' + found['status'] + ')'}")
    return 0 if done else 1


def _purge(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from bot.retention import purge
    from bot.store import get_store

    settings = get_settings()
    if args.days is not None:
        settings = replace(settings, retention_days=args.days)
    counts = purge(get_store(), settings, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(
        f"older than {settings.retention_days} days: {verb} {counts['conversations']} "
        f"conversations ({counts['events']} events) and {counts['sms_messages']} SMS replies; "
        f"{'would redact' if args.dry_run else 'redacted'} {counts['escalations_redacted']} "
        f"resolved escalations and {counts['checkins_redacted']} ended check-in programmes"
    )
    return 0


def _content(args: argparse.Namespace) -> int:
    from bot.content_report import write

    print(f"content report: {write()}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train when the model is missing or stale")
    train.add_argument("--force", action="store_true", help="train even if up to date")
    train.set_defaults(run=_train)

    serve = commands.add_parser("serve", help="run the action server and the Rasa server")
    serve.add_argument("--no-train", action="store_true", help="serve the trained model as it is")
    serve.add_argument("--port", type=int, default=5005)
    serve.add_argument("--action-port", type=int, default=5055)
    serve.add_argument(
        "--replicas",
        type=int,
        default=0,
        help="run N Rasa servers behind nginx on PostgreSQL and Redis (bot/cluster.py)",
    )
    serve.set_defaults(run=_serve)

    ends = commands.add_parser(
        "endpoints", help="write the endpoints file for DATABASE_URL and REDIS_URL, print its path"
    )
    ends.set_defaults(run=_endpoints)

    chat = commands.add_parser("chat", help="talk to a running assistant in the terminal")
    chat.add_argument("--url", default="http://127.0.0.1:5005")
    chat.set_defaults(run=_chat)

    work = commands.add_parser("worker", help="notifications, reconciliation, staff page")
    work.set_defaults(run=_worker)

    esc = commands.add_parser("escalations", help="the staff's view of escalations")
    actions = esc.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="escalations, oldest first")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--status", choices=["open", "acknowledged", "resolved"])
    for name in ("show", "ack"):
        actions.add_parser(name).add_argument("id", type=int)
    resolve = actions.add_parser("resolve")
    resolve.add_argument("id", type=int)
    resolve.add_argument("--note", required=True)
    esc.set_defaults(run=_escalations)

    purge = commands.add_parser(
        "purge", help="delete conversations older than the retention period (RETENTION_DAYS)"
    )
    purge.add_argument("--days", type=int, help="override RETENTION_DAYS for this run")
    purge.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    purge.set_defaults(run=_purge)

    content = commands.add_parser(
        "content", help="write the content report for clinicians (results/content.md)"
    )
    content.set_defaults(run=_content)

    from bot.staff_cli import add_commands

    add_commands(commands)
    from bot.checkins.cli import add_parser as add_checkins

    add_checkins(commands)

    args = parser.parse_args(argv)
    return int(args.run(args))
