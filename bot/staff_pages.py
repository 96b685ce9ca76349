"""The staff pages' HTML, rendered on the server: sign-in, the queue, one alert.

Everything that came from a patient or a database row is escaped (`_e`); the pages use no
script, so the CSP forbids all of it. The queue refreshes itself with a meta refresh.
Forms carry the session's CSRF token. Small screens get one card per alert.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any, Dict, List, Optional

from bot import clock
from bot.alert_figures import Figures
from bot.alerts import OUTCOMES, outcome_label

QUEUE_REFRESH_SECONDS = 30
AUTO_REFRESH = "auto=1"  # the query of the queue's own reloads (not activity: see staff.py)
STYLE = """body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem;
color:#111}
a{color:#04c}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,
textarea:focus-visible{outline:3px solid #f80;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff}
header{display:flex;justify-content:space-between;align-items:center;gap:1rem;flex-wrap:wrap}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ccc;padding:.4rem;text-align:left;vertical-align:top}
.emergency{color:#fff;background:#a00;padding:0 .3rem}.urgent{background:#fd0;padding:0 .3rem}
.callback{background:#ddd;padding:0 .3rem}
button,input,select,textarea{font-size:1rem;padding:.4rem .8rem;min-height:2.75rem}
label{display:block;margin-top:.6rem}textarea,select,input[type=text],input[type=password]
{width:100%;max-width:30rem;box-sizing:border-box}
.turn{margin:.3rem 0;padding:.4rem .6rem;border-radius:.4rem;max-width:40rem}
.patient{background:#eef}.assistant{background:#f4f4f4}.report{border-left:4px solid #a00}
.error{color:#a00}dt{font-weight:600}dd{margin:0 0 .4rem}
@media (max-width:640px){thead{display:none}tr{display:block;border:1px solid #ccc;
margin:.5rem 0;padding:.3rem}td{display:block;border:0;padding:.15rem .3rem}
td[data-label]::before{content:attr(data-label) ": ";font-weight:600}}"""


def _e(value: Any) -> str:
    return html.escape(str(value if value is not None else ""), quote=True)


def waited(created_at: str, now: Optional[datetime] = None) -> str:
    """'2 h 5 min' since the report."""
    seconds = ((now or clock.now()) - datetime.fromisoformat(created_at)).total_seconds()
    hours, minutes = divmod(max(0, int(seconds // 60)), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _callback(number: Optional[str], missing: str = "-") -> str:
    """The callback number, as a link a phone can dial when it is a clean E.164 number."""
    if not number:
        return missing
    if re.fullmatch(r"\+\d{8,15}", number):
        return f"<a class='call' href='tel:{number}'>{number}</a>"
    return _e(number)


def _page(title: str, body: str, user: str = "", csrf: str = "", refresh: int = 0) -> str:
    meta = (
        f"<meta http-equiv='refresh' content='{refresh};url=/?{AUTO_REFRESH}'>" if refresh else ""
    )
    who = (
        f"<form method='post' action='/signout'><input type='hidden' name='csrf' "
        f"value='{_e(csrf)}'>Signed in as {_e(user)} <button>Sign out</button></form>"
        if user
        else ""
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'>{meta}"
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        "<a class='skip' href='#main'>Skip to content</a>"
        f"<header><strong>Care team</strong>{who}</header>"
        f"<main id='main'>{body}</main></body></html>"
    )


def sign_in_page(token: str, error: str = "") -> str:
    message = f"<p class='error' role='alert'>{_e(error)}</p>" if error else ""
    return _page(
        "Sign in",
        f"<h1>Sign in</h1>{message}<form method='post' action='/signin'>"
        f"<input type='hidden' name='csrf' value='{_e(token)}'>"
        "<label for='name'>Name</label><input type='text' id='name' name='name' "
        "autocomplete='username' required autofocus>"
        "<label for='password'>Password</label><input type='password' id='password' "
        "name='password' autocomplete='current-password' required>"
        "<p><button>Sign in</button></p></form>",
    )


def _minutes(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.0f} min"


def _figures(found: Figures) -> str:
    return (
        "<h2>Figures</h2><dl class='figures'>"
        f"<dt>Waiting now (not acknowledged)</dt><dd>{found.waiting_now}</dd>"
        f"<dt>Time to acknowledge, median</dt><dd>{_minutes(found.median_minutes)}</dd>"
        f"<dt>Time to acknowledge, 90th percentile</dt><dd>{_minutes(found.p90_minutes)}</dd>"
        f"<dt>Acknowledged so far</dt><dd>{found.acknowledged}</dd>"
        f"<dt>Went to the second step of the chain</dt><dd>{found.went_up_the_chain}</dd></dl>"
    )


def audit_page(rows: List[Dict[str, Any]], user: str, csrf: str) -> str:
    lines = "".join(
        "<tr>"
        + "".join(
            f"<td data-label='{label}'>{_e(row[key])}</td>"
            for key, label in (
                ("at", "At"),
                ("actor", "Who"),
                ("action", "What"),
                ("escalation_id", "Alert"),
                ("remote", "From"),
                ("detail", "Detail"),
            )
        )
        + "</tr>"
        for row in reversed(rows)
    )
    return _page(
        "Audit log",
        "<p><a href='/'>Back to the queue</a></p><h1>Audit log</h1><p>Newest first.</p>"
        "<table><thead><tr><th>At</th><th>Who</th><th>What</th><th>Alert</th><th>From</th>"
        f"<th>Detail</th></tr></thead><tbody>{lines}</tbody></table>",
        user,
        csrf,
    )


def queue_page(
    rows: List[Dict[str, Any]], user: str, csrf: str, found: Figures, admin: bool = False
) -> str:
    lines = []
    for row in rows:
        number = _e(row["id"])
        lines.append(
            f"<tr class='alert-row'><td data-label='Alert'><a href='/escalations/{number}'>"
            f"#{number}</a></td><td data-label='Tier'><span class='{_e(row['tier'])}'>"
            f"{_e(row['tier'])}</span></td>"
            f"<td data-label='Waiting' class='waited'>{waited(row['created_at'])}</td>"
            f"<td data-label='Status'>{_e(row['status'])}</td>"
            f"<td data-label='Symptoms'>{_e(', '.join(row['symptoms']))}</td>"
            f"<td data-label='Channel'>{_e(row['channel'])}</td>"
            f"<td data-label='Callback'>{_callback(row.get('callback_number'))}</td></tr>"
        )
    body = "".join(lines) or "<tr><td colspan='7'>No alerts waiting.</td></tr>"
    return _page(
        f"Alerts waiting ({len(rows)})",
        f"<h1>Alerts waiting ({len(rows)})</h1>"
        f"<p>Emergency first, then the longest waiting. Refreshes every "
        f"{QUEUE_REFRESH_SECONDS} s.</p><table><thead><tr><th>Alert</th><th>Tier</th>"
        "<th>Waiting</th><th>Status</th><th>Symptoms</th><th>Channel</th><th>Callback</th>"
        f"</tr></thead><tbody>{body}</tbody></table>{_figures(found)}"
        "<p><a href='/checkins'>Check-ins after the procedure</a> (call list, enrol)</p>"
        + ("<p><a href='/audit'>Audit log</a></p>" if admin else ""),
        user,
        csrf,
        refresh=QUEUE_REFRESH_SECONDS,
    )


def _actions(row: Dict[str, Any], csrf: str) -> str:
    base = f"/escalations/{_e(row['id'])}"
    hidden = f"<input type='hidden' name='csrf' value='{_e(csrf)}'>"
    if row["status"] == "open":
        return (
            f"<form method='post' action='{base}/ack'>{hidden}"
            "<button id='acknowledge'>Acknowledge</button></form>"
        )
    if row["status"] == "acknowledged":
        options = "".join(f"<option value='{k}'>{_e(v)}</option>" for k, v in OUTCOMES.items())
        return (
            f"<form method='post' action='{base}/resolve'>{hidden}"
            f"<label for='outcome'>Outcome</label><select id='outcome' name='outcome' required>"
            f"<option value=''>Choose</option>{options}</select>"
            "<label for='note'>Note</label><textarea id='note' name='note' rows='3' "
            f"maxlength='2000'></textarea><p><button>Resolve</button></p></form>"
        )
    return (
        f"<p>Outcome: {_e(outcome_label(row.get('outcome')))}. Note: "
        f"{_e(row.get('resolution_note') or '-')}</p>"
        f"<form method='post' action='{base}/reopen'>{hidden}<button>Reopen</button></form>"
    )


def _attempt_row(attempt: Dict[str, Any]) -> str:
    if attempt["ok"]:  # done: delivered, or not sent for good (the error says why)
        result = _e(attempt["error"]) if attempt["error"] else "delivered"
    else:
        result = _e(attempt["error"] or "pending")
    return (
        f"<tr><td data-label='Notifier'>{_e(attempt['notifier'])}</td>"
        f"<td data-label='Why'>{_e(attempt['reason'])}</td>"
        f"<td data-label='At'>{_e(attempt['at'] or '-')}</td>"
        f"<td data-label='Result'>{result}</td></tr>"
    )


def _checkins(checkins: List[Dict[str, Any]]) -> str:
    """The check-in answers of an enrolled patient (nothing when not enrolled)."""
    if not checkins:
        return ""
    rows = "".join(
        f"<tr><td data-label='Check-in'>{_e(c['key'])}</td>"
        f"<td data-label='Due'>{_e(c['due_at'])}</td>"
        f"<td data-label='Status'>{_e(c['status'])}</td>"
        f"<td data-label='Answer'>{_e(c['text'] or '-')}"
        f"{' (' + _e(c['kind']) + ': ' + _e(c['value']) + ')' if c['value'] else ''}"
        f"{' <strong>worrying</strong>' if c['alert'] else ''}</td></tr>"
        for c in checkins
    )
    return (
        "<h2>Check-in answers</h2><table><thead><tr><th>Check-in</th><th>Due (UTC)</th>"
        f"<th>Status</th><th>Answer</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def alert_page(
    row: Dict[str, Any],
    turns: List[Dict[str, Any]],
    attempts: List[Dict[str, Any]],
    history: List[Dict[str, Any]],
    user: str,
    csrf: str,
    checkins: Optional[List[Dict[str, Any]]] = None,
) -> str:
    said = (
        "".join(
            f"<div class='turn {t['who']}{' report' if t['report'] else ''}'>"
            f"<strong>{'Patient' if t['who'] == 'patient' else 'Assistant'}"
            f"{' (report)' if t['report'] else ''}:</strong> {_e(t['text'])}</div>"
            for t in turns
        )
        or "<p>The conversation is no longer kept (retention period) or was not found.</p>"
    )
    sent = "".join(_attempt_row(a) for a in attempts) or (
        "<tr><td colspan='4'>No notifier configured.</td></tr>"
    )
    log = "".join(
        f"<li>{_e(h['at'])} {_e(h['actor'])}: {_e(h['action'])} {_e(h['detail'])}</li>"
        for h in history
    )
    reports = "".join(
        f"<li>{_e(r['at'])} ({_e(r['tier'])}): {_e(r['message'] or '')}</li>"
        for r in row["reports"]
    )
    return _page(
        f"Alert #{row['id']}",
        f"<p><a href='/'>Back to the queue</a></p><h1>Alert #{_e(row['id'])}</h1>"
        "<table><tbody>"
        f"<tr><th>Tier</th><td><span class='{_e(row['tier'])}'>{_e(row['tier'])}</span></td></tr>"
        f"<tr><th>Status</th><td id='status'>{_e(row['status'])}</td></tr>"
        f"<tr><th>Symptoms</th><td>{_e(', '.join(row['symptoms']))}</td></tr>"
        f"<tr><th>Channel</th><td>{_e(row['channel'])}</td></tr>"
        f"<tr><th>Callback</th><td>{_callback(row.get('callback_number'), 'not given')}</td></tr>"
        f"<tr><th>Reported</th><td>{_e(row['created_at'])} UTC "
        f"({waited(row['created_at'])} ago)</td></tr></tbody></table>"
        f"<h2>What they said</h2>{said}<h2>Reports</h2><ul>{reports}</ul>"
        f"{_checkins(checkins or [])}"
        f"<h2>Action</h2>{_actions(row, csrf)}"
        "<h2>Notifications</h2><table><thead><tr><th>Notifier</th><th>Why</th><th>At</th>"
        f"<th>Result</th></tr></thead><tbody>{sent}</tbody></table>"
        f"<h2>History</h2><ul>{log or '<li>none</li>'}</ul>",
        user,
        csrf,
    )
