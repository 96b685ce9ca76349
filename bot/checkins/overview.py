"""What the staff pages show of the check-ins, as plain data (rendered by `pages`):

- `programmes`: every enrolment with its next check-in, last pain score and whether an
  alert from it still waits for a call;
- `programme`: one enrolment: each check-in with its replies, the pain scores over time,
  the texts sent and the alerts of its number;
- `call_list`: the patients silence put on the call list whose alert is not resolved;
- `enrol_form`: the enrol form's fields read kindly (each refusal says what to type).

Times are shown on the patient's own clock, with the zone's abbreviation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

from bot.channels.sms_format import e164, mask
from bot.checkins.calllist import conversation_id
from bot.checkins.enrol import enrol
from bot.checkins.schedule import Schedule
from bot.checkins.store import PROCEDURES, CheckinStore, EnrolmentError, check_zone
from bot.clock import Clock
from bot.store import Store

FIELDS = ("phone", "procedure", "date", "time", "timezone")
LATEST_YEARS_AHEAD = 1
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*([ap]\.?m\.?)?$")


def local(value: Optional[str], zone: str) -> str:
    """An ISO time from the database on the patient's clock: "Mon 1 Jun 2026 18:00 CDT"."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value).astimezone(ZoneInfo(zone))
    return f"{moment:%a} {moment.day} {moment:%b %Y %H:%M} {moment.tzname()}"


def short_day(value: str, zone: str) -> str:
    """ "Mon 1 Jun" on the patient's clock."""
    moment = datetime.fromisoformat(value).astimezone(ZoneInfo(zone))
    return f"{moment:%a} {moment.day} {moment:%b}"


def answer_text(row: Dict[str, Any]) -> str:
    """A check-in's answer as the staff read it: "pain 7/10", "worse", "red flag (urgent)"."""
    kind, value = row.get("answer_kind"), row.get("answer_value")
    if not kind:
        return ""
    if kind == "pain":
        return f"pain {value}/10"
    if kind == "red_flag":
        return f"warning sign ({value})"
    if kind == "free_text":
        return "not understood (read the reply)"
    return str(value or kind)


def _open_alert_ids(store: Store) -> set:
    rows = store.db.execute("select id from escalations where status != 'resolved'").fetchall()
    return {int(r[0]) for r in rows}


def programmes(store: Store) -> List[Dict[str, Any]]:
    """Every enrolment, active first, then the newest: what the list page shows."""
    checkins = CheckinStore(store)
    by_programme: Dict[int, List[Dict[str, Any]]] = {}
    for row in checkins.rows(
        "select enrolment_id, key, due_at, status, answer_kind, answer_value, answered_at, "
        "alert, escalation_id from checkin_schedule order by due_at, id"
    ):
        by_programme.setdefault(int(row["enrolment_id"]), []).append(row)
    waiting = _open_alert_ids(store)
    found = []
    for enrolment in checkins.rows(
        "select * from checkin_enrolments order by status != 'active', id desc"
    ):
        zone = enrolment["timezone"]
        rows = by_programme.get(int(enrolment["id"]), [])
        upcoming = [r for r in rows if r["status"] in ("scheduled", "sending")]
        scores = [r for r in rows if r["answer_kind"] == "pain" and r["answer_value"]]
        scores.sort(key=lambda r: r["answered_at"] or "")
        calls = sorted(
            {int(r["escalation_id"]) for r in rows if r["alert"] and r["escalation_id"]} & waiting
        )
        found.append(
            {
                "id": enrolment["id"],
                "masked": mask(enrolment["phone"]),
                "procedure": enrolment["procedure"],
                "procedure_at": local(enrolment["procedure_at"], zone),
                "timezone": zone,
                "status": enrolment["status"],
                "next_key": upcoming[0]["key"] if upcoming else "",
                "next_at": local(upcoming[0]["due_at"], zone) if upcoming else "",
                "last_pain": scores[-1]["answer_value"] if scores else None,
                "last_pain_key": scores[-1]["key"] if scores else "",
                "alerts_waiting": calls,
            }
        )
    return found


@dataclass(frozen=True)
class PainPoint:
    key: str
    when: str  # on the patient's clock
    day: str  # its short date, "Mon 1 Jun"
    score: Optional[int]  # None: asked, not (yet) answered with a score
    status: str


def _alerts(store: Store, phone: str, zone: str) -> List[Dict[str, Any]]:
    found = store.db.execute(
        "select id, created_at, tier, status, symptoms, source, acknowledged_at, resolved_at "
        "from escalations where sender = ? or callback_number = ? order by id desc",
        [conversation_id(phone), phone],
    ).fetchall()
    names = (
        "id", "created_at", "tier", "status", "symptoms", "source", "acknowledged_at",
        "resolved_at",
    )  # fmt: skip
    rows = [dict(zip(names, r, strict=True)) for r in found]
    for row in rows:
        row["symptoms"] = json.loads(row["symptoms"] or "[]")
        row["raised"] = local(row["created_at"], zone)
    return rows


def programme(store: Store, schedule: Schedule, enrolment_id: int) -> Optional[Dict[str, Any]]:
    """One enrolment and everything the page shows of it; None when there is none."""
    checkins = CheckinStore(store)
    enrolment = checkins.enrolment(enrolment_id)
    if enrolment is None:
        return None
    zone = enrolment["timezone"]
    replies: Dict[int, List[Dict[str, Any]]] = {}
    for reply in checkins.replies(enrolment_id):
        replies.setdefault(int(reply["checkin_id"]), []).append(
            {**reply, "received": local(reply["received_at"], zone)}
        )
    rows = []
    pain: List[PainPoint] = []
    for row in checkins.checkins(enrolment_id):
        try:
            asks = schedule.entry(row["key"]).ask
        except KeyError:
            asks = row["answer_kind"] or ""
        shown = {
            **row,
            "asks": asks,
            "due": local(row["due_at"], zone),
            "sent": local(row["sent_at"], zone),
            "reminded": local(row["reminded_at"], zone) if row["reminder_state"] == "sent" else "",
            "answered": local(row["answered_at"], zone),
            "answer": answer_text(row),
            "replies": replies.get(int(row["id"]), []),
        }
        rows.append(shown)
        if asks == "pain" or row["answer_kind"] == "pain":
            score = int(row["answer_value"]) if row["answer_kind"] == "pain" else None
            moment = row["answered_at"] or row["sent_at"] or row["due_at"]
            pain.append(
                PainPoint(row["key"], local(moment, zone), short_day(moment, zone), score,
                          row["status"])
            )  # fmt: skip
    texts = [
        {**text, "at": local(text["sent_at"] or text["created_at"], zone)}
        for text in checkins.texts(enrolment_id)
    ]
    return {
        "enrolment": {
            **enrolment,
            "procedure_local": local(enrolment["procedure_at"], zone),
            "enrolled": local(enrolment["enrolled_at"], zone),
            "stopped": local(enrolment["stopped_at"], zone),
        },
        "checkins": rows,
        "pain": pain,
        "alert_line": schedule.pain_alert_at,
        "texts": texts,
        "alerts": _alerts(store, str(enrolment["phone"]), zone),
    }


def call_list(store: Store) -> List[Dict[str, Any]]:
    """Patients whose silence put them on the call list and whose alert is not resolved,
    the longest waiting first: one row per patient, with every missed check-in."""
    checkins = CheckinStore(store)
    found = checkins.rows(
        "select s.enrolment_id, s.key, s.due_at, s.escalation_id, e.phone, e.procedure, "
        "e.timezone, e.status as programme_status, x.status as alert_status, "
        "x.created_at as alert_at from checkin_schedule s "
        "join checkin_enrolments e on e.id = s.enrolment_id "
        "join escalations x on x.id = s.escalation_id "
        "where s.status = 'missed' and s.alert = 1 and x.status != 'resolved' "
        "order by x.created_at, s.due_at"
    )
    patients: Dict[int, Dict[str, Any]] = {}
    for row in found:
        zone = row["timezone"]
        patient = patients.setdefault(
            int(row["enrolment_id"]),
            {
                "enrolment_id": row["enrolment_id"],
                "phone": row["phone"],
                "procedure": row["procedure"],
                "programme_status": row["programme_status"],
                "missed": [],
                "alerts": {},
                "since": local(row["alert_at"], zone),
            },
        )
        patient["missed"].append({"key": row["key"], "due": local(row["due_at"], zone)})
        patient["alerts"][int(row["escalation_id"])] = row["alert_status"]
    return list(patients.values())


# -- the enrol form -----------------------------------------------------------------


@dataclass
class EnrolForm:
    """The form's values as typed, what is wrong with each, and the programme made."""

    values: Dict[str, str]
    errors: Dict[str, str] = field(default_factory=dict)
    enrolment_id: Optional[int] = None
    existing_id: Optional[int] = None  # the number's active programme, when that is why


def _time(text: str) -> Optional[str]:
    """ "10:30", "9:05", "2:30 pm", "14" as "HH:MM", or None."""
    found = _TIME.match(text.strip().lower())
    if not found:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    half = (found.group(3) or "").replace(".", "")
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def _date(text: str) -> Optional[str]:
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").strftime("%Y-%m-%d")
    except ValueError:
        return None


def enrol_form(
    store: Store,
    form: Dict[str, str],
    *,
    enrolled_by: str,
    default_zone: str,
    schedule: Schedule,
    clock: Clock,
    remote: str,
) -> EnrolForm:
    """Read the enrol form and enrol the patient, or say kindly what to change."""
    values = {name: (form.get(name) or "").strip()[:100] for name in FIELDS}
    values["timezone"] = values["timezone"] or default_zone
    result = EnrolForm(values)
    errors = result.errors
    if not values["phone"]:
        errors["phone"] = "Enter the patient's mobile number, like +1 555 555 0123."
    elif not e164(values["phone"]):
        errors["phone"] = (
            "That does not look like a mobile number. Type it with its area code, "
            "like +1 555 555 0123 or (555) 555-0123."
        )
    if values["procedure"].lower() not in PROCEDURES:
        errors["procedure"] = "Choose the procedure: vertebroplasty or kyphoplasty."
    day, hour = _date(values["date"]), _time(values["time"])
    if not values["date"]:
        errors["date"] = "Enter the date of the procedure."
    elif not day:
        errors["date"] = "Enter the date as year-month-day, like 2026-03-09."
    if not values["time"]:
        errors["time"] = "Enter the time of the procedure."
    elif not hour:
        errors["time"] = "Enter the time like 10:30 (24-hour) or 10:30 am."
    try:
        check_zone(values["timezone"])
    except EnrolmentError:
        errors["timezone"] = "Unknown time zone. Use a name from the list, like America/Chicago."
    if errors:
        return result
    assert day and hour
    now = clock()
    start = datetime.fromisoformat(f"{day} {hour}").replace(tzinfo=ZoneInfo(values["timezone"]))
    last_due = max(due for _, due in schedule.due_times(start, values["timezone"]))
    if last_due + schedule.limits.expire_after < now:
        errors["date"] = (
            "That date is too long ago: every check-in of the programme would already be "
            "past. Check the date."
        )
    elif start > now + timedelta(days=365 * LATEST_YEARS_AHEAD):
        errors["date"] = "That date is more than a year away. Check the year."
    if errors:
        return result
    number = e164(values["phone"]) or ""
    active = CheckinStore(store).active_for(number)
    if active:
        result.existing_id = int(active["id"])
        errors["phone"] = (
            f"This number already has an active programme (#{active['id']}). A number can "
            "have one at a time: stop that one first to enrol again."
        )
        return result
    try:
        result.enrolment_id = enrol(
            store,
            phone=number,
            procedure=values["procedure"].lower(),
            when=f"{day} {hour}",
            zone=values["timezone"],
            enrolled_by=enrolled_by,
            clock=clock,
            schedule=schedule,
            audit_remote=remote,
        )
    except EnrolmentError as error:  # two staff enrolling the same number at once
        errors["phone"] = str(error)[:1].upper() + str(error)[1:] + "."
    return result
