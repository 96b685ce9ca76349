"""The staff page: the open escalation queue, oldest first, with an acknowledge button.

Every request but /health needs the STAFF_TOKEN, as `Authorization: Bearer <token>`
or as the password of HTTP Basic auth (any user name), so a browser can log in.
No token configured, none sent, or a wrong one: 401 and nothing about a patient.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import re
import threading
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Optional
from urllib.parse import parse_qs

from bot.settings import Settings
from bot.store import Store

logger = logging.getLogger(__name__)

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
MAX_FORM_BYTES = 4096
STYLE = """body{font:16px/1.5 system-ui,sans-serif;margin:1rem;color:#111}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ccc;padding:.4rem;text-align:left}
.emergency{color:#fff;background:#a00;padding:0 .3rem}.urgent{background:#fd0;padding:0 .3rem}
button{font-size:1rem;padding:.3rem .8rem}"""


def authorised(header: str, token: Optional[str]) -> bool:
    """Bearer token, or Basic auth whose password is the token."""
    if not token or not header:
        return False
    if header.startswith("Bearer "):
        return hmac.compare_digest(header[7:].encode(), token.encode())
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(decoded.partition(":")[2].encode(), token.encode())
    return False


def csrf(token: str, escalation_id: int) -> str:
    return hmac.new(token.encode(), f"ack:{escalation_id}".encode(), hashlib.sha256).hexdigest()


def age(created_at: str, now: Optional[datetime] = None) -> str:
    """'2 h 5 min' since the report."""
    then = datetime.fromisoformat(created_at)
    minutes = int(((now or datetime.now(timezone.utc)) - then).total_seconds() // 60)
    hours, minutes = divmod(max(0, minutes), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def queue_page(rows: list, token: str) -> str:
    lines = []
    for row in rows:
        e = {k: html.escape(str(v if v is not None else "")) for k, v in row.items()}
        lines.append(
            f"<tr><td><a href='/escalations/{e['id']}'>#{e['id']}</a></td>"
            f"<td><span class='{e['tier']}'>{e['tier']}</span></td>"
            f"<td>{html.escape(', '.join(row['symptoms']))}</td><td>{e['channel']}</td>"
            f"<td>{e['callback_number'] or '-'}</td><td>{age(row['created_at'])}</td>"
            f"<td><form method='post' action='/escalations/{e['id']}/ack'>"
            f"<input type='hidden' name='csrf' value='{csrf(token, row['id'])}'>"
            f"<button>Acknowledge</button></form></td></tr>"
        )
    body = "".join(lines) or "<tr><td colspan='7'>No open escalations.</td></tr>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>Open escalations</title><style>{STYLE}</style></head><body>"
        f"<h1>Open escalations ({len(rows)})</h1><table><thead><tr><th>#</th><th>Tier</th>"
        "<th>Symptoms</th><th>Channel</th><th>Callback</th><th>Waiting</th><th></th></tr></thead>"
        f"<tbody>{body}</tbody></table></body></html>"
    )


def detail_page(row: Dict[str, Any]) -> str:
    esc = {
        k: html.escape(str(v if v is not None else ""))
        for k, v in row.items()
        if k not in ("reports", "notifications")
    }
    reports = "".join(
        f"<li>{html.escape(r['at'])} ({html.escape(r['tier'])}): "
        f"{html.escape(r['message'] or '')}</li>"
        for r in row["reports"]
    )
    sent = "".join(
        f"<li>{html.escape(n['notifier'])}: attempts {n['attempts']}, "
        f"{'delivered ' + html.escape(n['delivered_at']) if n['delivered_at'] else 'pending'}</li>"
        for n in row["notifications"]
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Escalation #{esc['id']}</title><style>{STYLE}</style></head><body>"
        f"<p><a href='/'>Back to the queue</a></p><h1>Escalation #{esc['id']}</h1>"
        f"<p>Tier: <span class='{esc['tier']}'>{esc['tier']}</span>, status {esc['status']}, "
        f"channel {esc['channel']}, callback {esc['callback_number'] or '-'}, "
        f"reported {esc['created_at']} UTC</p><h2>Reports</h2><ul>{reports}</ul>"
        f"<h2>Notifications</h2><ul>{sent or '<li>none configured</li>'}</ul></body></html>"
    )


def make_handler(path: Path, settings: Settings) -> type:
    """A handler that opens its own connection per request (requests run in threads)."""
    token = settings.staff_token

    path_db = path

    class StaffHandler(BaseHTTPRequestHandler):
        server_version = "staff"
        sys_version = ""
        timeout = 10  # a client that stops sending never holds a thread for long

        def log_message(self, format: str, *args: Any) -> None:  # no patient data in logs
            logger.debug("staff %s %s", self.command, self.path.split("?")[0])

        def _send(
            self,
            status: int,
            body: str = "",
            content: str = "text/html; charset=utf-8",
            extra: Optional[Dict[str, str]] = None,
        ) -> None:
            data = body.encode()
            self.send_response(status)
            for key, value in {**HEADERS, **(extra or {})}.items():
                self.send_header(key, value)
            self.send_header("Content-Type", content)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _allowed(self) -> bool:
            if authorised(self.headers.get("Authorization", ""), token):
                return True
            self._send(
                HTTPStatus.UNAUTHORIZED,
                "Unauthorized",
                "text/plain; charset=utf-8",
                {"WWW-Authenticate": 'Basic realm="clinic staff", charset="UTF-8"'},
            )
            return False

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            if path == "/health":
                self._send(HTTPStatus.OK, "ok", "text/plain; charset=utf-8")
                return
            if not self._allowed():
                return
            store = Store(path_db)
            try:
                if path == "/":
                    self._send(HTTPStatus.OK, queue_page(store.list("open"), token or ""))
                    return
                match = re.fullmatch(r"/escalations/(\d+)", path)
                row = store.get(int(match.group(1))) if match else None
            finally:
                store.close()
            if row is None:
                self._send(HTTPStatus.NOT_FOUND, "Not found", "text/plain; charset=utf-8")
                return
            self._send(HTTPStatus.OK, detail_page(row))

        def do_POST(self) -> None:  # noqa: N802
            if not self._allowed():
                return
            match = re.fullmatch(r"/escalations/(\d+)/ack", self.path)
            declared = (self.headers.get("Content-Length") or "0").strip()
            # a form is a few bytes; a length that is negative (read(-1) would wait for the
            # client to close), not a number or too big is refused before reading anything
            if not re.fullmatch(r"[0-9]{1,9}", declared) or int(declared) > MAX_FORM_BYTES:
                self.close_connection = True
                self._send(HTTPStatus.BAD_REQUEST, "Bad request", "text/plain; charset=utf-8")
                return
            form = parse_qs(self.rfile.read(int(declared)).decode(errors="replace"))
            if not match or not hmac.compare_digest(
                (form.get("csrf") or [""])[0], csrf(token or "", int(match.group(1)))
            ):
                self._send(HTTPStatus.FORBIDDEN, "Forbidden", "text/plain; charset=utf-8")
                return
            store = Store(path_db)
            try:
                store.acknowledge(int(match.group(1)))
            finally:
                store.close()
            self._send(HTTPStatus.SEE_OTHER, "", extra={"Location": "/"})

    return StaffHandler


def serve(store: Store, settings: Settings, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Start the staff page in a background thread; returns the server (shutdown() stops it)."""
    if not settings.staff_token:
        logger.warning("STAFF_TOKEN is not set: the staff page refuses every request")
    server = ThreadingHTTPServer((host, settings.staff_port), make_handler(store.path, settings))
    threading.Thread(target=server.serve_forever, daemon=True, name="staff-page").start()
    return server
