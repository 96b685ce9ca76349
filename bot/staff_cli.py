"""The care team's commands: `python -m bot staff add NAME --role nurse` and
`python -m bot audit`.

The password is asked for twice on a terminal, or read as one line from standard input
(for scripts: `printf '%s\\n' "$PASSWORD" | python -m bot staff add ana --role nurse`).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Optional

from bot import audit, staff_accounts
from bot.store import Store, get_store

CLI_ACTIONS = {"list": "listed alerts", "show": "viewed alert", "ack": "acknowledged"}


def audited(store: Store, action: str, escalation_id: Optional[int]) -> None:
    """Audit an `escalations` command as `cli:<login>` before it runs."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    what = CLI_ACTIONS.get(action, "resolved" if action == "resolve" else action)
    audit.record(store, f"cli:{login}", what, escalation_id, remote="command line")


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise staff_accounts.AccountError("the two passwords differ")
    return first


def _staff(args: argparse.Namespace) -> int:
    store = get_store()
    if args.action == "list":
        for row in store.db.execute(
            "select name, role, created_at, locked_until from staff_users order by name"
        ).fetchall():
            locked = f" locked until {row[3]}" if row[3] else ""
            print(f"{row[0]:<20} {row[1]:<6} since {row[2]}{locked}")
        return 0
    try:
        user = staff_accounts.add_user(store, args.name, args.role, _read_password())
    except staff_accounts.AccountError as error:
        print(f"not added: {error}", file=sys.stderr)
        return 1
    print(f"added {user.name} ({user.role})")
    return 0


def _audit(args: argparse.Namespace) -> int:
    rows = audit.rows(get_store(), args.escalation, limit=args.limit)
    for row in rows:
        print(audit.format_row(row))
    print(f"{len(rows)} row(s)")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add `staff` and `audit` to the command line's subcommands."""
    staff = commands.add_parser("staff", help="named staff accounts for the staff page")
    actions = staff.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create an account (password from a prompt or stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=staff_accounts.ROLES, required=True)
    actions.add_parser("list", help="the accounts, by name")
    staff.set_defaults(run=_staff)

    log = commands.add_parser("audit", help="print the audit log, oldest first")
    log.add_argument("--escalation", type=int, help="only this escalation's rows")
    log.add_argument("--limit", type=int, default=1000, help="the newest N rows (1000)")
    log.set_defaults(run=_audit)
