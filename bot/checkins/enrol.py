"""Enrolling patients: one from the command line, or a day's list from a CSV file.

The procedure time is the patient's wall-clock time ("2026-03-09 10:30") in their time
zone (default: CLINIC_TIMEZONE). The CSV has a header row and the columns `phone`,
`procedure`, `date` (YYYY-MM-DD), `time` (HH:MM, 24-hour) and, optionally, `timezone`;
each good row is enrolled, each bad one reported with its line number.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from typing import IO, List, Optional, Tuple
from zoneinfo import ZoneInfo

from bot.checkins.schedule import Schedule, load_schedule
from bot.checkins.store import CheckinStore, EnrolmentError, check_zone
from bot.clock import Clock, system_clock
from bot.settings import get_settings
from bot.store import Store

CSV_COLUMNS = ("phone", "procedure", "date", "time")


@dataclass(frozen=True)
class Imported:
    """What a CSV import did: the enrolments made, and (line, why) for each refused row."""

    enrolled: List[int]
    refused: List[Tuple[int, str]]


def local_time(when: str, zone: str) -> datetime:
    """`when` ("YYYY-MM-DD HH:MM") on the wall clock of `zone`, as an aware datetime."""
    check_zone(zone)
    try:
        naive = datetime.strptime(" ".join(when.split()), "%Y-%m-%d %H:%M")
    except ValueError as error:
        raise EnrolmentError(f"not a date and time like 2026-03-09 10:30: {when!r}") from error
    return naive.replace(tzinfo=ZoneInfo(zone))


def enrol(
    store: Store,
    *,
    phone: str,
    procedure: str,
    when: str,
    zone: Optional[str],
    enrolled_by: str,
    clock: Clock = system_clock,
    schedule: Optional[Schedule] = None,
    audit_remote: Optional[str] = None,
) -> int:
    """Enrol one patient; EnrolmentError says why not (audited with `audit_remote`)."""
    zone = (zone or "").strip() or get_settings().clinic_timezone
    return CheckinStore(store).enrol(
        phone=phone.strip(),
        procedure=procedure.strip().lower(),
        procedure_at=local_time(when, zone),
        zone=zone,
        enrolled_by=enrolled_by,
        schedule=schedule or load_schedule(),
        now=clock(),
        audit_remote=audit_remote,
    )


def import_csv(
    store: Store,
    rows: IO[str],
    enrolled_by: str,
    clock: Clock = system_clock,
    schedule: Optional[Schedule] = None,
) -> Imported:
    """Enrol every good row of a day's list."""
    reader = csv.DictReader(rows)
    header = {(name or "").strip().lower() for name in reader.fieldnames or []}
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        return Imported([], [(1, f"missing column(s): {', '.join(missing)}")])
    enrolled: List[int] = []
    refused: List[Tuple[int, str]] = []
    for row in reader:
        fields = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        try:
            enrolled.append(
                enrol(
                    store,
                    phone=fields["phone"],
                    procedure=fields["procedure"],
                    when=f"{fields['date']} {fields['time']}",
                    zone=fields.get("timezone"),
                    enrolled_by=enrolled_by,
                    clock=clock,
                    schedule=schedule,
                )
            )
        except EnrolmentError as error:
            refused.append((reader.line_num, str(error)))
    return Imported(enrolled, refused)
