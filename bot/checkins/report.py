"""What the clinic reads about the check-ins: a CSV of every check-in, and the figures.

- `export_csv`: one row per check-in with its programme (number, procedure, time zone,
  who enrolled), due and sent times, status, the answer read and whether it needed a call;
- `figures`: per check-in key, how many went out, were answered, missed or needed a call,
  the reply rate and the alert rate (both over the check-ins that went out).
"""

from __future__ import annotations

import csv
from typing import IO, Any, Dict, List

from bot.checkins.store import CheckinStore

COLUMNS = (
    "enrolment_id", "phone", "procedure", "procedure_at", "timezone", "enrolled_by",
    "programme_status", "key", "due_at", "sent_at", "status", "reminded_at", "answered_at",
    "answer_kind", "answer_value", "alert", "escalation_id",
)  # fmt: skip
WENT_OUT = ("sent", "answered", "missed")


def rows(checkins: CheckinStore) -> List[Dict[str, Any]]:
    return checkins.rows(
        "select s.enrolment_id, e.phone, e.procedure, e.procedure_at, e.timezone, "
        "e.enrolled_by, e.status as programme_status, s.key, s.due_at, s.sent_at, s.status, "
        "s.reminded_at, s.answered_at, s.answer_kind, s.answer_value, s.alert, s.escalation_id "
        "from checkin_schedule s join checkin_enrolments e on e.id = s.enrolment_id "
        "order by s.enrolment_id, s.due_at, s.id"
    )


def export_csv(checkins: CheckinStore, out: IO[str]) -> int:
    """Write every check-in as CSV to `out`; how many rows."""
    found = rows(checkins)
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(found)
    return len(found)


def figures(checkins: CheckinStore) -> Dict[str, Dict[str, Any]]:
    """Per check-in key, in schedule order of first due time: the counts and the rates."""
    result: Dict[str, Dict[str, Any]] = {}
    for row in rows(checkins):
        counts = result.setdefault(
            row["key"], {"went_out": 0, "answered": 0, "missed": 0, "alerts": 0}
        )
        if row["status"] in WENT_OUT:
            counts["went_out"] += 1
            counts["answered"] += row["status"] == "answered"
            counts["missed"] += row["status"] == "missed"
            counts["alerts"] += bool(row["alert"])
    for counts in result.values():
        out = counts["went_out"]
        counts["reply_rate"] = round(counts["answered"] / out, 3) if out else None
        counts["alert_rate"] = round(counts["alerts"] / out, 3) if out else None
    return result
