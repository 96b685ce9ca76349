"""The check-ins' staff pages, as pure functions from data (`bot.checkins.overview`,
`bot.checkins.report`) to HTML, in the staff pages' frame (`bot.staff_pages`):

- `list_page`: the call list of patients who did not answer, every enrolled patient (the
  number masked), the clinic's figures, links to the enrol form and the CSV export;
- `programme_page`: one enrolment: its details, a stop button, its pain scores as an inline
  SVG chart (no script; a <title>, a <desc> and the same scores as a table), each check-in
  with its replies, the texts sent and the alerts of the number;
- `enrol_page`: the enrol form, with the values kept and what to change said beside each
  field when it was refused.

Everything from the database or a form is escaped; forms carry the session's CSRF token.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from bot.checkins.overview import EnrolForm, PainPoint
from bot.checkins.store import PROCEDURES
from bot.staff_pages import _callback, _e, _page

EXTRA_STYLE = """<style>.chart{max-width:36rem;width:100%;height:auto}
.call-now{background:#fd0;padding:0 .3rem}.muted{color:#555}
.field-error{color:#a00;margin:.2rem 0}input[aria-invalid=true],select[aria-invalid=true]
{border:2px solid #a00}.reply{margin:.2rem 0;padding:.2rem .4rem;background:#eef}
nav a{margin-right:1rem}tr.total td{font-weight:600}</style>"""
TIME_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico",
)  # fmt: skip
STATUS_WORDS = {
    "scheduled": "due",
    "sending": "sending",
    "sent": "sent, no answer yet",
    "answered": "answered",
    "missed": "missed",
    "expired": "not sent (too late)",
    "cancelled": "cancelled",
}
TOTAL_ROW = " class='total'"
CHART = {"width": 480, "height": 240, "left": 36, "right": 12, "top": 18, "bottom": 56}


def _nav(*links: tuple) -> str:
    return "<nav>" + "".join(f"<a href='{href}'>{_e(text)}</a>" for href, text in links) + "</nav>"


def _hidden(csrf: str) -> str:
    return f"<input type='hidden' name='csrf' value='{_e(csrf)}'>"


def _rate(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.0%}"


def _minutes(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.0f} min"


# -- the list -------------------------------------------------------------------------


def _call_list(rows: List[Dict[str, Any]]) -> str:
    if not rows:
        return (
            "<h2 id='call-list'>Call list: no answer (0)</h2>"
            "<p>Nobody is waiting for a call about a missed check-in.</p>"
        )
    lines = []
    for row in rows:
        missed = ", ".join(f"{_e(m['key'])} ({_e(m['due'])})" for m in row["missed"])
        alerts = ", ".join(
            f"<a href='/escalations/{number}'>alert #{number}</a> {_e(status)}"
            for number, status in row["alerts"].items()
        )
        lines.append(
            "<tr class='call-row'>"
            f"<td data-label='Patient'>{_callback(row['phone'])}</td>"
            f"<td data-label='Programme'><a href='/checkins/{_e(row['enrolment_id'])}'>"
            f"#{_e(row['enrolment_id'])}</a> {_e(row['procedure'])}</td>"
            f"<td data-label='Missed'>{missed}</td>"
            f"<td data-label='Alert raised'>{_e(row['since'])}</td>"
            f"<td data-label='Alert'>{alerts}</td></tr>"
        )
    return (
        f"<h2 id='call-list'>Call list: no answer ({len(rows)})</h2>"
        "<p>Patients who did not answer a check-in and its reminder. Resolve the alert once "
        "you have called.</p><table><thead><tr><th>Patient</th><th>Programme</th>"
        "<th>Missed check-ins</th><th>Alert raised</th><th>Alert</th></tr></thead>"
        f"<tbody>{''.join(lines)}</tbody></table>"
    )


def _programmes(rows: List[Dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        number = _e(row["id"])
        pain = "-" if row["last_pain"] is None else f"{_e(row['last_pain'])}/10"
        if row["last_pain"] is not None:
            pain += f" <span class='muted'>({_e(row['last_pain_key'])})</span>"
        upcoming = (
            f"{_e(row['next_key'])} <span class='muted'>{_e(row['next_at'])}</span>"
            if row["next_key"]
            else "-"
        )
        calls = (
            "<span class='call-now'>"
            + ", ".join(f"<a href='/escalations/{a}'>alert #{a}</a>" for a in row["alerts_waiting"])
            + "</span>"
            if row["alerts_waiting"]
            else "-"
        )
        lines.append(
            "<tr class='programme-row'>"
            f"<td data-label='Programme'><a href='/checkins/{number}'>#{number}</a></td>"
            f"<td data-label='Number'>{_e(row['masked'])}</td>"
            f"<td data-label='Procedure'>{_e(row['procedure'])}</td>"
            f"<td data-label='Date'>{_e(row['procedure_at'])}</td>"
            f"<td data-label='Status'>{_e(row['status'])}</td>"
            f"<td data-label='Next check-in'>{upcoming}</td>"
            f"<td data-label='Last pain score'>{pain}</td>"
            f"<td data-label='Needs a call'>{calls}</td></tr>"
        )
    body = "".join(lines) or "<tr><td colspan='8'>Nobody is enrolled yet.</td></tr>"
    return (
        f"<h2 id='programmes'>Enrolled patients ({len(rows)})</h2>"
        "<table><thead><tr><th>Programme</th><th>Number</th><th>Procedure</th>"
        "<th>Procedure date</th><th>Status</th><th>Next check-in</th><th>Last pain score</th>"
        f"<th>Needs a call</th></tr></thead><tbody>{body}</tbody></table>"
    )


def figures_section(found: Dict[str, Any]) -> str:
    """The clinic's figures: per check-in reply and alert rates, then how fast the check-ins'
    alerts were acknowledged (`bot.checkins.report.clinic_figures`)."""
    rows = [*found["per_checkin"].items(), ("All check-ins", found["all"])]
    lines = "".join(
        f"<tr{TOTAL_ROW if name == 'All check-ins' else ''}>"
        f"<td data-label='Check-in'>{_e(name)}</td>"
        f"<td data-label='Went out'>{f['went_out']}</td>"
        f"<td data-label='Answered'>{f['answered']}</td>"
        f"<td data-label='Reply rate'>{_rate(f['reply_rate'])}</td>"
        f"<td data-label='Missed'>{f['missed']}</td>"
        f"<td data-label='Needed a call'>{f['alerts']}</td>"
        f"<td data-label='Alert rate'>{_rate(f['alert_rate'])}</td></tr>"
        for name, f in rows
    )
    alerts = found["alerts"]
    return (
        "<h2 id='figures'>Figures</h2><table class='figures'><caption>Per check-in, over the "
        "texts that went out</caption><thead><tr><th>Check-in</th><th>Went out</th>"
        "<th>Answered</th><th>Reply rate</th><th>Missed</th><th>Needed a call</th>"
        f"<th>Alert rate</th></tr></thead><tbody>{lines}</tbody></table>"
        "<dl class='figures'>"
        f"<dt>Alerts the check-ins raised</dt><dd>{alerts['raised']}</dd>"
        f"<dt>Waiting now (not acknowledged)</dt><dd>{alerts['waiting_now']}</dd>"
        f"<dt>Acknowledged so far</dt><dd>{alerts['acknowledged']}</dd>"
        "<dt>Time from alert to acknowledgement, median</dt>"
        f"<dd>{_minutes(alerts['median_minutes_to_acknowledge'])}</dd>"
        "<dt>Time from alert to acknowledgement, 90th percentile</dt>"
        f"<dd>{_minutes(alerts['p90_minutes_to_acknowledge'])}</dd></dl>"
    )


def list_page(
    programmes: List[Dict[str, Any]],
    calls: List[Dict[str, Any]],
    found: Dict[str, Any],
    user: str,
    csrf: str,
) -> str:
    return _page(
        "Check-ins",
        EXTRA_STYLE
        + _nav(
            ("/", "Alert queue"),
            ("/checkins/new", "Enrol a patient"),
            ("/checkins/export.csv", "Download every check-in (CSV)"),
        )
        + "<h1>Check-ins after the procedure</h1>"
        + _call_list(calls)
        + _programmes(programmes)
        + figures_section(found),
        user,
        csrf,
    )


# -- one programme --------------------------------------------------------------------


def pain_chart(points: Sequence[PainPoint], alert_line: int) -> str:
    """The pain scores as a small inline SVG line chart, one column per check-in that asks
    for a score (unanswered ones say so); described by its <title> and <desc>."""
    if not points:
        return "<p>No check-in of this programme asks for a pain score.</p>"
    c = CHART
    width, height = c["width"], c["height"]
    plot_w = width - c["left"] - c["right"]
    plot_h = height - c["top"] - c["bottom"]

    def x(i: int) -> float:
        return c["left"] + (i + 0.5) * plot_w / len(points)

    def y(score: float) -> float:
        return c["top"] + (10 - score) / 10 * plot_h

    said = "; ".join(
        f"{p.key}, {p.day}: " + (f"{p.score} out of 10" if p.score is not None else "no score")
        for p in points
    )
    parts = [
        f"<svg class='chart' id='pain-chart' role='img' viewBox='0 0 {width} {height}' "
        f"width='{width}' height='{height}' aria-labelledby='pain-title pain-desc' "
        "xmlns='http://www.w3.org/2000/svg' font-family='system-ui,sans-serif' font-size='13'>",
        "<title id='pain-title'>Pain scores by check-in, 0 (none) to 10 (worst)</title>",
        f"<desc id='pain-desc'>{_e(said)}. A call is needed at {alert_line} or more.</desc>",
    ]
    for score in range(0, 11, 2):
        parts.append(
            f"<line x1='{c['left']}' x2='{width - c['right']}' y1='{y(score):.1f}' "
            f"y2='{y(score):.1f}' stroke='#ddd'/>"
            f"<text x='{c['left'] - 8}' y='{y(score) + 4:.1f}' text-anchor='end' "
            f"fill='#333'>{score}</text>"
        )
    parts.append(
        f"<line class='alert-line' x1='{c['left']}' x2='{width - c['right']}' "
        f"y1='{y(alert_line):.1f}' y2='{y(alert_line):.1f}' stroke='#a00' "
        "stroke-dasharray='6 4'/>"
        f"<text x='{width - c['right']}' y='{y(alert_line) - 5:.1f}' text-anchor='end' "
        f"fill='#a00'>call at {alert_line}+</text>"
    )
    answered = [(i, p) for i, p in enumerate(points) if p.score is not None]
    if len(answered) > 1:
        path = " ".join(f"{x(i):.1f},{y(p.score or 0):.1f}" for i, p in answered)
        parts.append(f"<polyline points='{path}' fill='none' stroke='#04c' stroke-width='2'/>")
    for i, p in enumerate(points):
        parts.append(
            f"<text x='{x(i):.1f}' y='{height - c['bottom'] + 18}' text-anchor='middle' "
            f"fill='#111'>{_e(p.key)}</text><text x='{x(i):.1f}' "
            f"y='{height - c['bottom'] + 34}' text-anchor='middle' fill='#555'>{_e(p.day)}</text>"
        )
        if p.score is None:
            parts.append(
                f"<text x='{x(i):.1f}' y='{y(0) - 6:.1f}' text-anchor='middle' fill='#555'>"
                f"{_e(STATUS_WORDS.get(p.status, p.status))}</text>"
            )
            continue
        colour = "#a00" if p.score >= alert_line else "#04c"
        parts.append(
            f"<circle class='score' cx='{x(i):.1f}' cy='{y(p.score):.1f}' r='5' "
            f"fill='{colour}'/><text x='{x(i):.1f}' y='{y(p.score) - 10:.1f}' "
            f"text-anchor='middle' font-weight='600' fill='{colour}'>{p.score}</text>"
        )
    parts.append("</svg>")
    rows = "".join(
        f"<tr><td data-label='Check-in'>{_e(p.key)}</td><td data-label='When'>{_e(p.when)}</td>"
        f"<td data-label='Pain'>{'-' if p.score is None else f'{p.score}/10'}</td>"
        f"<td data-label='Status'>{_e(STATUS_WORDS.get(p.status, p.status))}</td></tr>"
        for p in points
    )
    return (
        "".join(parts)
        + "<table id='pain-table'><caption>The pain scores as a table</caption><thead><tr>"
        "<th>Check-in</th><th>When</th><th>Pain</th><th>Status</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def _checkin_rows(rows: List[Dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        status = STATUS_WORDS.get(row["status"], row["status"])
        if row["reminded"]:
            status += f" (reminded {row['reminded']})"
        replies = "".join(
            f"<div class='reply'><span class='muted'>{_e(r['received'])}:</span> "
            f"{_e(r['text'] or '(removed: retention period)')}</div>"
            for r in row["replies"]
        )
        call = ""
        if row["alert"]:
            target = (
                f" <a href='/escalations/{_e(row['escalation_id'])}'>alert "
                f"#{_e(row['escalation_id'])}</a>"
                if row["escalation_id"]
                else ""
            )
            call = f" <strong class='call-now'>needs a call</strong>{target}"
        lines.append(
            f"<tr class='checkin-row' data-status='{_e(row['status'])}'>"
            f"<td data-label='Check-in'>{_e(row['key'])}</td>"
            f"<td data-label='Asks'>{_e(row['asks'])}</td>"
            f"<td data-label='Due'>{_e(row['due'])}</td>"
            f"<td data-label='Status' class='status'>{_e(status)}</td>"
            f"<td data-label='Sent'>{_e(row['sent'] or '-')}</td>"
            f"<td data-label='Answer'>{_e(row['answer'] or '-')}{call}{replies}</td></tr>"
        )
    return (
        "<h2 id='checkins'>Check-ins</h2><table><thead><tr><th>Check-in</th><th>Asks</th>"
        "<th>Due</th><th>Status</th><th>Sent</th><th>Answer and replies</th></tr></thead>"
        f"<tbody>{''.join(lines)}</tbody></table>"
    )


def _alerts(rows: List[Dict[str, Any]]) -> str:
    if not rows:
        return "<h2 id='alerts'>Alerts</h2><p>No alert for this number.</p>"
    lines = "".join(
        f"<tr><td data-label='Alert'><a href='/escalations/{_e(r['id'])}'>alert #{_e(r['id'])}"
        "</a></td>"
        f"<td data-label='Tier'><span class='{_e(r['tier'])}'>{_e(r['tier'])}</span></td>"
        f"<td data-label='Status'>{_e(r['status'])}</td>"
        f"<td data-label='Raised'>{_e(r['raised'])}</td>"
        f"<td data-label='From'>{'check-ins' if r['source'] == 'checkins' else 'conversation'}"
        f"</td><td data-label='Symptoms'>{_e(', '.join(r['symptoms']))}</td></tr>"
        for r in rows
    )
    return (
        "<h2 id='alerts'>Alerts</h2><table><thead><tr><th>Alert</th><th>Tier</th>"
        "<th>Status</th><th>Raised</th><th>From</th><th>Symptoms</th></tr></thead>"
        f"<tbody>{lines}</tbody></table>"
    )


def _texts(rows: List[Dict[str, Any]]) -> str:
    lines = "".join(
        f"<tr><td data-label='Text'>{_e(t['kind'])}</td><td data-label='Status'>"
        f"{_e(t['status'])}</td><td data-label='At'>{_e(t['at'])}</td></tr>"
        for t in rows
    )
    body = lines or "<tr><td colspan='3'>None yet.</td></tr>"
    return (
        "<h2 id='texts'>Texts sent</h2><table><thead><tr><th>Text</th><th>Status</th>"
        f"<th>At</th></tr></thead><tbody>{body}</tbody></table>"
    )


def _stop_form(enrolment: Dict[str, Any], csrf: str) -> str:
    if enrolment["status"] != "active":
        by = (
            f" by {_e(enrolment['stopped_by'])} ({_e(enrolment['stopped'])}): "
            f"{_e(enrolment['stop_reason'] or '')}"
            if enrolment["stopped_by"]
            else ""
        )
        return f"<p>This programme is {_e(enrolment['status'])}{by}. No more texts go out.</p>"
    return (
        f"<form method='post' action='/checkins/{_e(enrolment['id'])}/stop'>{_hidden(csrf)}"
        "<label for='reason'>Reason for stopping (optional, no patient details)</label>"
        "<input type='text' id='reason' name='reason' maxlength='200'>"
        "<p><button id='stop'>Stop the check-ins</button> <span class='muted'>No more texts "
        "go out to this number for this programme.</span></p></form>"
    )


def programme_page(found: Dict[str, Any], user: str, csrf: str, notice: str = "") -> str:
    enrolment = found["enrolment"]
    number = _e(enrolment["id"])
    said = f"<p role='status' class='notice'>{_e(notice)}</p>" if notice else ""
    return _page(
        f"Check-in programme #{enrolment['id']}",
        EXTRA_STYLE
        + _nav(("/checkins", "All check-ins"), ("/", "Alert queue"))
        + f"<h1>Check-in programme #{number}</h1>{said}<table><tbody>"
        f"<tr><th>Number</th><td>{_callback(enrolment['phone'])}</td></tr>"
        f"<tr><th>Procedure</th><td>{_e(enrolment['procedure'])}, "
        f"{_e(enrolment['procedure_local'])}</td></tr>"
        f"<tr><th>Time zone</th><td>{_e(enrolment['timezone'])}</td></tr>"
        f"<tr><th>Status</th><td id='programme-status'>{_e(enrolment['status'])}</td></tr>"
        f"<tr><th>Enrolled</th><td>by {_e(enrolment['enrolled_by'])}, "
        f"{_e(enrolment['enrolled'])}</td></tr></tbody></table>"
        + _stop_form(enrolment, csrf)
        + "<h2 id='pain'>Pain scores</h2>"
        + pain_chart(found["pain"], found["alert_line"])
        + _checkin_rows(found["checkins"])
        + _alerts(found["alerts"])
        + _texts(found["texts"]),
        user,
        csrf,
    )


# -- the enrol form --------------------------------------------------------------------


def _field(name: str, label: str, control: str, errors: Dict[str, str], hint: str = "") -> str:
    error = errors.get(name)
    described = " ".join(
        part for part in (f"{name}-hint" if hint else "", f"{name}-error" if error else "") if part
    )
    if described:
        control = control.replace(" name=", f" aria-describedby='{described}' name=", 1)
    if error:
        control = control.replace(" name=", " aria-invalid='true' name=", 1)
    return (
        f"<label for='{name}'>{_e(label)}</label>"
        + (f"<p class='muted' id='{name}-hint'>{_e(hint)}</p>" if hint else "")
        + (f"<p class='field-error' id='{name}-error'>{_e(error)}</p>" if error else "")
        + control
    )


def enrol_page(
    form: Optional[EnrolForm],
    default_zone: str,
    user: str,
    csrf: str,
    programme: str = "",
    window: str = "",
) -> str:
    """The enrol form; `programme` says what the patient gets ("5 texts over 6 weeks: ..."),
    `window` when texts go out ("08:00 to 21:00"), both from the schedule file."""
    values = form.values if form else {"timezone": default_zone}
    errors = form.errors if form else {}
    summary = ""
    if errors:
        items = "".join(
            f"<li><a href='#{name}'>{_e(message)}</a></li>" for name, message in errors.items()
        )
        more = (
            f" <a href='/checkins/{form.existing_id}'>Open programme #{form.existing_id}</a>."
            if form and form.existing_id
            else ""
        )
        summary = (
            "<div role='alert' class='error' id='enrol-errors'><p>The patient was not enrolled: "
            f"please change what is said below.{more}</p><ul>{items}</ul></div>"
        )
    chosen = values.get("procedure", "").lower()
    options = "".join(
        f"<option value='{p}'{' selected' if p == chosen else ''}>{p.capitalize()}</option>"
        for p in PROCEDURES
    )
    zones = "".join(f"<option value='{z}'></option>" for z in TIME_ZONES)
    return _page(
        "Enrol a patient in check-ins",
        EXTRA_STYLE
        + _nav(("/checkins", "All check-ins"), ("/", "Alert queue"))
        + "<h1>Enrol a patient in check-ins</h1>"
        f"<p>The patient gets {_e(programme or 'the check-in texts')}. The first text says "
        "who is texting and how to stop. Enrolling records your name: you are signed in as "
        f"<strong>{_e(user)}</strong>.</p>{summary}"
        f"<form method='post' action='/checkins/new' novalidate>{_hidden(csrf)}"
        + _field(
            "phone",
            "Mobile number",
            "<input type='tel' id='phone' name='phone' autocomplete='off' required "
            f"value='{_e(values.get('phone', ''))}'>",
            errors,
            "With the area code, like +1 555 555 0123.",
        )
        + _field(
            "procedure",
            "Procedure",
            f"<select id='procedure' name='procedure' required><option value=''>Choose"
            f"</option>{options}</select>",
            errors,
        )
        + _field(
            "date",
            "Date of the procedure",
            f"<input type='date' id='date' name='date' required "
            f"value='{_e(values.get('date', ''))}'>",
            errors,
        )
        + _field(
            "time",
            "Time of the procedure (the patient's local time)",
            f"<input type='time' id='time' name='time' required "
            f"value='{_e(values.get('time', ''))}'>",
            errors,
        )
        + _field(
            "timezone",
            "The patient's time zone",
            "<input type='text' id='timezone' name='timezone' list='zones' required "
            f"value='{_e(values.get('timezone', default_zone))}'><datalist id='zones'>"
            f"{zones}</datalist>",
            errors,
            f"The clinic's is {default_zone}."
            + (f" Texts go out only from {window} on this clock." if window else ""),
        )
        + "<p><button id='enrol'>Enrol</button></p></form>",
        user,
        csrf,
    )
