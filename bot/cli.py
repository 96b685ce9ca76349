"""The command line: train, serve, chat.

python -m bot train [--force]      train when the model is missing or stale
python -m bot serve [--no-train]   run the action server and the Rasa server
python -m bot chat                 talk to a running assistant in the terminal
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import sys
import urllib.request
from typing import Any, Dict, List, Optional, Sequence

from bot import model
from bot.servers import Servers, server_env


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
    servers = Servers(args.port, args.action_port, server_env(args.action_port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        servers.start_actions()
        servers.start_rasa()
        print(
            "\nThe assistant is running.\n"
            f"  REST: POST http://127.0.0.1:{args.port}/webhooks/rest/webhook "
            '{"sender": "me", "message": "hello"}\n'
            "  Chat in a terminal: make chat   (Ctrl-C here stops both servers)\n",
            flush=True,
        )
        servers.processes["rasa"].wait()
    except KeyboardInterrupt:
        pass
    finally:
        servers.stop()
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
    serve.set_defaults(run=_serve)

    chat = commands.add_parser("chat", help="talk to a running assistant in the terminal")
    chat.add_argument("--url", default="http://127.0.0.1:5005")
    chat.set_defaults(run=_chat)

    args = parser.parse_args(argv)
    return int(args.run(args))
