"""Named staff accounts and their browser sessions.

Passwords are hashed with scrypt (standard library) and a random salt per user; the
hash string carries its parameters (`scrypt$16384$8$1$<salt hex>$<hash hex>`). After
STAFF_LOCKOUT_ATTEMPTS wrong passwords in a row an account is locked for
STAFF_LOCKOUT_MINUTES. A session is a random cookie value; the database keeps only its
SHA-256, with a CSRF token for the session's forms, and forgets it after
STAFF_IDLE_MINUTES without a request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

from bot import audit, clock
from bot.settings import Settings
from bot.storage.portable import insert_id
from bot.store import Store, iso

ROLES = ("nurse", "admin")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 10


class AccountError(ValueError):
    """An account cannot be created as asked (the message says why)."""


@dataclass(frozen=True)
class StaffUser:
    id: int
    name: str
    role: str


@dataclass(frozen=True)
class Session:
    """A signed-in browser: who, and the token its forms must carry."""

    user: StaffUser
    csrf: str


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt did: a session cookie value, or why not."""

    cookie: Optional[str]
    locked: bool = False


def hash_password(password: str, salt: Optional[bytes] = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        found = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(digest) // 2,
        )
    except ValueError:
        return False
    return hmac.compare_digest(found.hex(), digest)


# compared against when the name is unknown, so a wrong name takes as long as a wrong password
_DUMMY_HASH = hash_password("not a password", salt=b"\0" * 16)


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def add_user(store: Store, name: str, role: str, password: str) -> StaffUser:
    """Create an account; the name must be new, the role known, the password long enough."""
    name = name.strip()
    if not name or len(name) > 64:
        raise AccountError("a name of 1 to 64 characters is needed")
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    hashed = hash_password(password)
    with store.transaction() as conn:
        if conn.execute("select 1 from staff_users where name = ?", [name]).fetchone():
            raise AccountError(f"there is already an account called {name!r}")
        user_id = insert_id(
            conn,
            "insert into staff_users (name, role, password_hash, created_at, failed_attempts) "
            "values (?, ?, ?, ?, 0)",
            [name, role, hashed, iso(clock.now())],
        )
        audit.write(conn, "cli", "account created", detail=f"{name} ({role})")
    return StaffUser(user_id, name, role)


def sign_in(store: Store, settings: Settings, name: str, password: str, remote: str) -> SignIn:
    """Check a name and password; a session cookie value on success. Every try is audited."""
    now = clock.now()
    row = store.db.execute(
        "select password_hash from staff_users where name = ?", [name]
    ).fetchone()
    good = check_password(password, row[0] if row else _DUMMY_HASH)
    with store.transaction() as conn:
        idle_since = iso(now - timedelta(minutes=settings.staff_idle_minutes))
        conn.execute("delete from staff_sessions where last_seen_at < ?", [idle_since])
        # read again inside the write transaction: concurrent wrong passwords all count
        row = conn.execute(
            "select id, failed_attempts, locked_until, disabled from staff_users where name = ?",
            [name],
        ).fetchone()
        if row is None or row[3]:
            audit.write(conn, name[:64] or "-", "sign-in refused", remote=remote)
            return SignIn(None)
        user_id, failed, locked_until = row[0], row[1] or 0, row[2]
        if locked_until and locked_until > iso(now):
            audit.write(conn, name, "sign-in refused: locked", remote=remote)
            return SignIn(None, locked=True)
        if not good:
            failed += 1
            locked = failed >= settings.staff_lockout_attempts
            until = iso(now + timedelta(minutes=settings.staff_lockout_minutes)) if locked else None
            conn.execute(
                "update staff_users set failed_attempts = ?, locked_until = ? where id = ?",
                [0 if locked else failed, until, user_id],
            )
            audit.write(conn, name, "account locked" if locked else "wrong password", remote=remote)
            return SignIn(None, locked=locked)
        conn.execute(
            "update staff_users set failed_attempts = 0, locked_until = null where id = ?",
            [user_id],
        )
        cookie = secrets.token_urlsafe(32)
        conn.execute(
            "insert into staff_sessions (id, user_id, created_at, last_seen_at, csrf) "
            "values (?, ?, ?, ?, ?)",
            [_digest(cookie), user_id, iso(now), iso(now), secrets.token_urlsafe(32)],
        )
        audit.write(conn, name, "signed in", remote=remote)
    return SignIn(cookie)


def session(store: Store, settings: Settings, cookie: str, touch: bool = True) -> Optional[Session]:
    """The live session for a cookie value; None when unknown or idle too long. `touch`
    counts the request as activity (the queue's own reloads do not, so an unattended
    queue still signs out)."""
    if not cookie:
        return None
    now = clock.now()
    key = _digest(cookie)
    row = store.db.execute(
        "select s.last_seen_at, s.csrf, u.id, u.name, u.role, u.disabled from staff_sessions s "
        "join staff_users u on u.id = s.user_id where s.id = ?",
        [key],
    ).fetchone()
    if row is None:
        return None
    idle_since = iso(now - timedelta(minutes=settings.staff_idle_minutes))
    with store.transaction() as conn:
        if row[0] < idle_since or row[5]:
            conn.execute("delete from staff_sessions where id = ?", [key])
            return None
        if touch:
            conn.execute("update staff_sessions set last_seen_at = ? where id = ?", [iso(now), key])
    return Session(StaffUser(row[2], row[3], row[4]), row[1])


def sign_out(store: Store, cookie: str, remote: str) -> None:
    key = _digest(cookie)
    with store.transaction() as conn:
        row = conn.execute(
            "select u.name from staff_sessions s join staff_users u on u.id = s.user_id "
            "where s.id = ?",
            [key],
        ).fetchone()
        conn.execute("delete from staff_sessions where id = ?", [key])
        if row:
            audit.write(conn, row[0], "signed out", remote=remote)
