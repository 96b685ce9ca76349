"""The website chat's own files: the demo clinic page and the widget's assets.

Served by the Rasa server under the web channel's prefix, so nothing comes from a CDN:
- GET /webhooks/web/                 the demo clinic page (`web/demo.html`, clinic from settings)
- GET /webhooks/web/static/<file>    the widget (`web/static/`): its loader, ES modules and
                                     CSS, the socket.io client (any origin may fetch them)
- GET /webhooks/web/health           {"status": "ok"}
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from string import Template
from typing import Dict, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.escalations import normalise_phone
from bot.settings import PROJECT_ROOT, get_settings

WEB_ROOT = PROJECT_ROOT / "web"
STATIC_ROOT = WEB_ROOT / "static"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
# The widget's files are public code with no credentials; a clinic's page on another
# origin imports its ES modules, and module scripts are fetched with CORS.
ASSET_HEADERS = {**COMMON_HEADERS, "Access-Control-Allow-Origin": "*"}
# The demo page runs no inline script or style, so a strict policy holds.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def tel_href(number: str) -> str:
    """A `tel:` link for a phone number as the clinic writes it: E.164 when it can be."""
    e164 = normalise_phone(number)
    return "tel:" + (e164 or re.sub(r"[^\d+]", "", number))


def static_file(name: str) -> Optional[Path]:
    """The asset called `name` under web/static, or None (no escaping that folder)."""
    path = (STATIC_ROOT / name).resolve()
    if STATIC_ROOT.resolve() not in path.parents or path.suffix not in CONTENT_TYPES:
        return None
    return path if path.is_file() else None


def demo_page() -> str:
    """The demo clinic page with the clinic's details filled in (escaped)."""
    s = get_settings()
    values: Dict[str, str] = {
        key: html.escape(value, quote=True) for key, value in s.response_values().items()
    }
    values["clinic_phone_href"] = html.escape(tel_href(s.clinic_phone), quote=True)
    values["after_hours_phone_href"] = html.escape(tel_href(s.after_hours_phone), quote=True)
    return Template((WEB_ROOT / "demo.html").read_text(encoding="utf-8")).substitute(values)


def add_routes(chat: Blueprint) -> None:
    """The page, asset and health routes of the web channel's blueprint."""

    @chat.route("/", methods=["GET"])
    async def page(_: Request) -> HTTPResponse:
        return response.html(
            demo_page(), headers={**COMMON_HEADERS, "Content-Security-Policy": PAGE_POLICY}
        )

    @chat.route("/health", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @chat.route("/static/<name:path>", methods=["GET"])
    async def asset(_: Request, name: str) -> HTTPResponse:
        path = static_file(name)
        if path is None:
            return response.text("not found", status=404, headers=COMMON_HEADERS)
        return response.raw(
            path.read_bytes(),
            content_type=CONTENT_TYPES[path.suffix],
            headers=ASSET_HEADERS,
        )
