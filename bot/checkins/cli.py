"""`python -m bot checkins ...`: enrol, import a day's list, list, show and stop programmes.

python -m bot checkins enroll PHONE --procedure kyphoplasty --at "2026-03-09 10:30"
                              [--tz America/Chicago] --by "J. Rivera RN"
python -m bot checkins import day.csv --by "J. Rivera RN"
python -m bot checkins list [--status active|stopped|completed] [--json]
python -m bot checkins show ID [--json]
python -m bot checkins stop ID --by NAME [--reason "..."]
python -m bot checkins export [FILE]       every check-in as CSV (default: standard output)
python -m bot checkins figures [--json]    per check-in: sent, answered, missed, call rates;
                                           time from a check-in alert to acknowledgement
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any, Dict
from zoneinfo import ZoneInfo

from bot.checkins.store import PROCEDURES, CheckinStore, EnrolmentError

STATUSES = ("active", "stopped", "completed")


def _store() -> CheckinStore:
    from bot.store import get_store

    return CheckinStore(get_store())


def _enroll(args: argparse.Namespace) -> int:
    from bot.checkins.enrol import enrol
    from bot.store import get_store

    try:
        enrolment_id = enrol(
            get_store(),
            phone=args.phone,
            procedure=args.procedure,
            when=args.at,
            zone=args.tz,
            enrolled_by=args.by,
        )
    except EnrolmentError as error:
        print(f"not enrolled: {error}", file=sys.stderr)
        return 1
    print(f"enrolled #{enrolment_id}")
    return _print_one(enrolment_id, as_json=False)


def _import(args: argparse.Namespace) -> int:
    from bot.checkins.enrol import import_csv
    from bot.store import get_store

    with open(args.file, newline="", encoding="utf-8-sig") as rows:
        result = import_csv(get_store(), rows, args.by)
    for line, why in result.refused:
        print(f"line {line}: not enrolled: {why}", file=sys.stderr)
    print(f"enrolled {len(result.enrolled)}, refused {len(result.refused)}")
    return 1 if result.refused else 0


def _line(row: Dict[str, Any]) -> str:
    return (
        f"#{row['id']:<5} {row['status']:<10} {row['phone']:<16} {row['procedure']:<15} "
        f"{row['procedure_at']} {row['timezone']:<20} by {row['enrolled_by']}"
    )


def _list(args: argparse.Namespace) -> int:
    rows = _store().enrolments(args.status)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(_line(row))
    print(f"{len(rows)} programme(s)")
    return 0


def _print_one(enrolment_id: int, as_json: bool) -> int:
    store = _store()
    enrolment = store.enrolment(enrolment_id)
    if enrolment is None:
        print(f"no programme #{enrolment_id}", file=sys.stderr)
        return 1
    found = {
        **enrolment,
        "checkins": store.checkins(enrolment_id),
        "texts": store.texts(enrolment_id),
        "replies": store.replies(enrolment_id),
    }
    if as_json:
        print(json.dumps(found, indent=2))
        return 0
    print(_line(enrolment))
    zone = ZoneInfo(enrolment["timezone"])
    for row in found["checkins"]:
        due = datetime.fromisoformat(row["due_at"]).astimezone(zone).strftime("%a %Y-%m-%d %H:%M")
        answer = row["answer_value"] or row["answer_kind"] or ""
        flag = "  CALL" if row["alert"] else ""
        print(f"  {row['key']:<8} due {due} (local)  {row['status']:<10} {answer}{flag}")
    return 0


def _show(args: argparse.Namespace) -> int:
    return _print_one(args.id, args.json)


def _stop(args: argparse.Namespace) -> int:
    from bot.store import utcnow

    if _store().stop(args.id, args.by, args.reason, utcnow()):
        print(f"#{args.id} stopped")
        return 0
    print(f"#{args.id} unchanged (not an active programme)", file=sys.stderr)
    return 1


def _export(args: argparse.Namespace) -> int:
    from bot.checkins.report import export_csv

    if args.file == "-":
        export_csv(_store(), sys.stdout)
        return 0
    with open(args.file, "w", newline="", encoding="utf-8") as out:
        count = export_csv(_store(), out)
    print(f"{count} check-in(s) written to {args.file}")
    return 0


def _minutes(value: Any) -> str:
    return "-" if value is None else f"{value:.0f} min"


def _figures(args: argparse.Namespace) -> int:
    from bot.checkins.report import clinic_figures

    found = clinic_figures(_store())
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    for key, f in [*found["per_checkin"].items(), ("all", found["all"])]:
        rates = "".join(
            f"  {name} {f[name]:.0%}"
            for name in ("reply_rate", "alert_rate")
            if f[name] is not None
        )
        print(
            f"{key:<8} went out {f['went_out']:>4}  answered {f['answered']:>4}  "
            f"missed {f['missed']:>4}  calls {f['alerts']:>4}{rates}"
        )
    alerts = found["alerts"]
    print(
        f"check-in alerts: {alerts['raised']} raised, {alerts['waiting_now']} waiting now, "
        f"{alerts['acknowledged']} acknowledged; time to acknowledge: median "
        f"{_minutes(alerts['median_minutes_to_acknowledge'])}, 90th percentile "
        f"{_minutes(alerts['p90_minutes_to_acknowledge'])}"
    )
    return 0


def add_parser(commands: Any) -> None:
    """Add `checkins` and its subcommands to the main parser's subparsers."""
    checkins = commands.add_parser("checkins", help="check-in texts after the procedure")
    actions = checkins.add_subparsers(dest="action", required=True)

    enroll = actions.add_parser("enroll", help="enrol one patient")
    enroll.add_argument("phone", help="mobile number, e.g. +15555550123")
    enroll.add_argument("--procedure", required=True, choices=PROCEDURES)
    enroll.add_argument("--at", required=True, help='local procedure time "YYYY-MM-DD HH:MM"')
    enroll.add_argument("--tz", help="the patient's time zone (default: CLINIC_TIMEZONE)")
    enroll.add_argument("--by", required=True, help="who is enrolling the patient")
    enroll.set_defaults(run=_enroll)

    bulk = actions.add_parser("import", help="enrol a day's list from a CSV file")
    bulk.add_argument("file", help="columns: phone, procedure, date, time[, timezone]")
    bulk.add_argument("--by", required=True, help="who is enrolling the patients")
    bulk.set_defaults(run=_import)

    listing = actions.add_parser("list", help="programmes, oldest first")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_list)

    show = actions.add_parser("show", help="one programme: check-ins, texts, replies")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=_show)

    stop = actions.add_parser("stop", help="end a programme: no more texts")
    stop.add_argument("id", type=int)
    stop.add_argument("--by", required=True)
    stop.add_argument("--reason", default="stopped by staff")
    stop.set_defaults(run=_stop)

    export = actions.add_parser("export", help="every check-in as CSV")
    export.add_argument("file", nargs="?", default="-", help="default: standard output")
    export.set_defaults(run=_export)

    numbers = actions.add_parser(
        "figures", help="reply and alert rates per check-in, time to acknowledge alerts"
    )
    numbers.add_argument("--json", action="store_true")
    numbers.set_defaults(run=_figures)
