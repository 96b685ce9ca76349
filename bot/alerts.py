"""What the care team does with an alert, and what it sees of one.

- `queue`: the unresolved alerts, emergency first, then the longest waiting;
- `conversation`: the turns around the report, from Rasa's tracker store (the `events`
  table in the same file; conversations the retention period deleted show none);
- `attempts`: every delivery attempt of every notification;
- `checkin_answers`: the patient's check-in answers, when the number is enrolled;
- `acknowledge`, `resolve` (with an outcome and a note) and `reopen`, each audited in
  the transaction that makes the change.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from bot import audit, clock
from bot.escalations import phone_from_sender
from bot.store import Store, iso
from bot.tiers import rank

OUTCOMES: Dict[str, str] = {
    "reached_advised": "Reached and advised",
    "sent_to_er": "Sent to the emergency room",
    "no_answer": "No answer",
    "wrong_number": "Wrong number",
}
TURNS_BEFORE, TURNS_AFTER = 8, 6
MAX_NOTE = 2000


def queue(store: Store) -> List[Dict[str, Any]]:
    """Open and acknowledged alerts: the most urgent tier first, then the oldest."""
    rows = store.list("open") + store.list("acknowledged")
    return sorted(rows, key=lambda row: (rank(row["tier"]), row["created_at"], row["id"]))


def _report_times(row: Dict[str, Any]) -> List[float]:
    times = []
    for report in row.get("reports") or []:
        try:
            times.append(float((report.get("event_key") or "").rsplit(":", 1)[1]))
        except (IndexError, ValueError):
            continue
    return times


def conversation(store: Store, row: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The patient's and the assistant's turns around the reports, oldest first:
    [{"who": "patient" | "assistant", "text", "timestamp", "report": bool}]."""
    if not store.has_table("events"):
        return []
    events = store.db.execute(
        "select type_name, timestamp, data from events where sender_id = ? "
        "and type_name in ('user', 'bot') order by id",
        [row["sender"]],
    ).fetchall()
    reports = _report_times(row)
    turns = []
    for kind, timestamp, data in events:
        text = (json.loads(data or "{}") or {}).get("text") or ""
        if text:
            is_report = kind == "user" and any(abs(timestamp - t) < 1e-3 for t in reports)
            turns.append(
                {
                    "who": "patient" if kind == "user" else "assistant",
                    "text": text,
                    "timestamp": timestamp,
                    "report": is_report,
                }
            )
    marked = [i for i, turn in enumerate(turns) if turn["report"]]
    if not marked:
        return turns[-(TURNS_BEFORE + TURNS_AFTER) :]
    return turns[max(0, marked[0] - TURNS_BEFORE) : marked[-1] + TURNS_AFTER + 1]


def attempts(store: Store, escalation_id: int) -> List[Dict[str, Any]]:
    """Every delivery attempt for the alert, with its notifier and reason, oldest first."""
    found = store.db.execute(
        "select o.id, o.notifier, o.reason, a.at, a.ok, a.error from outbox o "
        "left join notification_attempts a on a.outbox_id = o.id "
        "where o.escalation_id = ? order by o.id, a.id",
        [escalation_id],
    ).fetchall()
    names = ("outbox_id", "notifier", "reason", "at", "ok", "error")
    return [dict(zip(names, row, strict=True)) for row in found]


def checkin_answers(store: Store, row: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The check-ins of the alert's number (its SMS sender, else its callback number), newest
    programme first, each with the answer read from it, in due order; [] when not enrolled."""
    phone = phone_from_sender(row.get("sender") or "") or row.get("callback_number")
    if not phone:
        return []
    programme = store.db.execute(
        "select id from checkin_enrolments where phone = ? order by id desc limit 1", [phone]
    ).fetchone()
    if not programme:
        return []
    found = store.db.execute(
        "select s.key, s.due_at, s.status, r.received_at, r.text, r.kind, r.value, r.alert "
        "from checkin_schedule s left join checkin_replies r on r.checkin_id = s.id "
        "where s.enrolment_id = ? order by s.due_at, s.id, r.id",
        [programme[0]],
    ).fetchall()
    names = ("key", "due_at", "status", "received_at", "text", "kind", "value", "alert")
    return [dict(zip(names, r, strict=True)) for r in found]


def _move(
    store: Store,
    escalation_id: int,
    allowed_from: Tuple[str, ...],
    values: Dict[str, Any],
    actor: str,
    action: str,
    detail: str,
    remote: str,
) -> bool:
    with store.transaction() as conn:
        found = conn.execute(
            "select status from escalations where id = ?", [escalation_id]
        ).fetchone()
        if not found or found[0] not in allowed_from:
            return False
        values = {**values, "updated_at": iso(clock.now())}
        sets = ", ".join(f"{name} = ?" for name in values)
        conn.execute(
            f"update escalations set {sets} where id = ?", [*values.values(), escalation_id]
        )
        audit.write(conn, actor, action, escalation_id, detail, remote)
    return True


def acknowledge(store: Store, escalation_id: int, actor: str, remote: str = "") -> bool:
    """Open -> acknowledged: someone is on it (this stops the escalation chain)."""
    values = {
        "status": "acknowledged",
        "acknowledged_at": iso(clock.now()),
        "acknowledged_by": actor,
    }
    return _move(store, escalation_id, ("open",), values, actor, "acknowledged", "", remote)


def resolve(
    store: Store, escalation_id: int, actor: str, outcome: str, note: str, remote: str = ""
) -> bool:
    """Acknowledged -> resolved, with one of OUTCOMES and a note."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    values = {
        "status": "resolved",
        "resolved_at": iso(clock.now()),
        "resolved_by": actor,
        "outcome": outcome,
        "resolution_note": note[:MAX_NOTE],
    }
    return _move(
        store, escalation_id, ("acknowledged",), values, actor, "resolved", outcome, remote
    )


def reopen(store: Store, escalation_id: int, actor: str, remote: str = "") -> bool:
    """Resolved -> acknowledged again (the outcome is kept in the audit log)."""
    values = {"status": "acknowledged", "resolved_at": None, "resolved_by": None, "outcome": None}
    return _move(store, escalation_id, ("resolved",), values, actor, "reopened", "", remote)


def outcome_label(outcome: Optional[str]) -> str:
    return OUTCOMES.get(outcome or "", outcome or "")
