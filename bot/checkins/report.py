"""What the clinic reads about the check-ins: a CSV of every check-in, and the figures.

- `export_csv`: one row per check-in with its programme (number, procedure, time zone,
  who enrolled), due and sent times, status, the answer read and whether it needed a call;
- `figures`: per check-in key, how many went out, were answered, missed or needed a call,
  the reply rate and the alert rate (both over the check-ins that went out); `totals`
  adds them up over every check-in;
- `alert_times`: how fast the care team acknowledged the alerts the check-ins raised
  (median and 90th percentile, `bot.alert_figures` over the check-ins' own alerts);
- `clinic_figures`: all three, as the staff page and `checkins figures --json` show them.
"""

from __future__ import annotations

import csv
from typing import IO, Any, Dict, List

from bot.alert_figures import Figures
from bot.alert_figures import figures as alert_figures
from bot.checkins.calllist import SOURCE
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
        _rates(counts)
    return result


def _rates(counts: Dict[str, Any]) -> Dict[str, Any]:
    out = counts["went_out"]
    counts["reply_rate"] = round(counts["answered"] / out, 3) if out else None
    counts["alert_rate"] = round(counts["alerts"] / out, 3) if out else None
    return counts


def totals(per_checkin: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    """The counts of `figures` added up over every check-in, with the overall rates."""
    names = ("went_out", "answered", "missed", "alerts")
    return _rates({name: sum(f[name] for f in per_checkin.values()) for name in names})


def alert_times(checkins: CheckinStore) -> Figures:
    """Acknowledgement of the alerts the check-ins raised (their escalations' `source`)."""
    return alert_figures(checkins.store, SOURCE)


def clinic_figures(checkins: CheckinStore) -> Dict[str, Any]:
    """{"per_checkin": figures, "all": totals, "alerts": acknowledgement times}."""
    per_checkin = figures(checkins)
    found = alert_times(checkins)
    return {
        "per_checkin": per_checkin,
        "all": totals(per_checkin),
        "alerts": {
            "raised": _raised(checkins),
            "waiting_now": found.waiting_now,
            "acknowledged": found.acknowledged,
            "median_minutes_to_acknowledge": found.median_minutes,
            "p90_minutes_to_acknowledge": found.p90_minutes,
        },
    }


def _raised(checkins: CheckinStore) -> int:
    row = checkins.db.execute(
        "select count(*) from escalations where source = ?", [SOURCE]
    ).fetchone()
    return int(row[0])
