"""A small HTTP client for the staff pages: keeps cookies, never follows redirects, and
reads the CSRF token out of the last page."""

from __future__ import annotations

import http.client
import re
from http.cookies import SimpleCookie
from typing import Any, Dict, Iterable, List, Optional, Tuple
from urllib.parse import urlencode, urlsplit

from bot import staff_accounts
from bot.store import Store

PASSWORD = "correct horse battery"


class Headers(Dict[str, str]):
    """Response headers looked up without regard to case, as HTTP reads them (Sanic sends
    "content-type", the standard library's server sent "Content-Type")."""

    def __init__(self, items: Iterable[Tuple[str, str]]) -> None:
        super().__init__((key.lower(), value) for key, value in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(str(key).lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


class StaffClient:
    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: Dict[str, str] = {}
        self.set_cookies: List[str] = []
        self.body = ""

    def request(
        self,
        method: str,
        path: str,
        form: Optional[Dict[str, str]] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> Tuple[int, Dict[str, str], str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urlencode(form).encode() if form is not None else None
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=sent)
        reply = conn.getresponse()
        self.body = reply.read().decode()
        self.set_cookies = reply.headers.get_all("Set-Cookie") or []
        for raw in self.set_cookies:
            for name, morsel in SimpleCookie(raw).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        conn.close()
        return reply.status, Headers(reply.headers.items()), self.body

    def get(self, path: str, **kw) -> Tuple[int, Dict[str, str], str]:
        return self.request("GET", path, **kw)

    def post(self, path: str, form: Dict[str, str], **kw) -> Tuple[int, Dict[str, str], str]:
        return self.request("POST", path, form=form, **kw)

    def csrf(self) -> str:
        found = re.search(r"name='csrf' value='([^']+)'", self.body)
        assert found, "no CSRF token on the page"
        return found.group(1)

    def sign_in(self, name: str, password: str = PASSWORD) -> int:
        self.get("/signin")
        form = {"csrf": self.csrf(), "name": name, "password": password}
        status, _, _ = self.post("/signin", form)
        return status


def add_staff(store: Store, name: str = "ana", role: str = "nurse") -> None:
    staff_accounts.add_user(store, name, role, PASSWORD)
