"""Check-ins under the retention period (RETENTION_DAYS, applied by `bot.retention`).

A programme that has ended (stopped or completed) and whose last check-in was due before
the cutoff loses the patient's words in its replies and its phone number. The answers
read from them (scores, choices), the times and who enrolled stay, as the record of what
the clinic asked and heard.
"""

from __future__ import annotations

from typing import Any

REDACTED = "redacted"

_ENDED = (
    "select e.id from checkin_enrolments e where e.status != 'active' and e.phone != ? "
    "and (select max(s.due_at) from checkin_schedule s where s.enrolment_id = e.id) < ?"
)


def redact(conn: Any, cutoff_iso: str, dry_run: bool = False) -> int:
    """Redact the ended programmes older than `cutoff_iso`; how many (or would be)."""
    ended = [row[0] for row in conn.execute(_ENDED, [REDACTED, cutoff_iso])]
    if ended and not dry_run:
        marks = ", ".join("?" for _ in ended)
        conn.execute(
            f"update checkin_replies set text = null where enrolment_id in ({marks})", ended
        )
        conn.execute(
            f"update checkin_enrolments set phone = ? where id in ({marks})", [REDACTED, *ended]
        )
    return len(ended)
