"""Accounts: argon2 password hashes, roles, and login with throttling.

The web app and the CLI both go through these functions; passwords never reach a log.
"""

from __future__ import annotations

import datetime as dt

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from newsflow.clock import utcnow
from newsflow.errors import AuthError
from newsflow.models import User
from newsflow.store import Store
from newsflow.store import users as db

ROLES = ("admin", "editor", "viewer")
MIN_PASSWORD = 8
_hasher = PasswordHasher()  # argon2id with RFC 9106's low-memory profile
_dummy: dict[str, str] = {}


def _dummy_hash() -> str:
    """Verifying against this when the user does not exist keeps the timing of "no such
    user" and "wrong password" alike."""
    if "h" not in _dummy:
        _dummy["h"] = _hasher.hash("newsflow-timing-equaliser")
    return _dummy["h"]


def _check_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 100 or any(ch.isspace() for ch in name):
        raise AuthError("a username must be 1-100 characters with no spaces")
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"a password needs at least {MIN_PASSWORD} characters")


def add_user(store: Store, username: str, password: str, role: str,
             email: str | None = None) -> User:
    name = _check_username(username)
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r} (allowed: {', '.join(ROLES)})")
    _check_password(password)
    if db.get_user(store, name) is not None:
        raise AuthError(f"user {name!r} already exists; use set-password to change it")
    return db.insert_user(store, name, _hasher.hash(password), role, email)


def set_password(store: Store, username: str, password: str) -> None:
    _check_password(password)
    if not db.update_user(store, username, password_hash=_hasher.hash(password)):
        raise AuthError(f"no user {username!r}")


def set_disabled(store: Store, username: str, disabled: bool = True) -> None:
    if not db.update_user(store, username, disabled=disabled):
        raise AuthError(f"no user {username!r}")


def require_user(store: Store, username: str) -> User:
    user = db.get_user(store, username)
    if user is None:
        raise AuthError(f"no user {username!r}; create one with 'newsflow users add'")
    if user.disabled:
        raise AuthError(f"user {username!r} is disabled")
    return user


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(store: Store, username: str, password: str, address: str, *,
                 max_attempts: int, window_s: int, now: dt.datetime | None = None) -> User:
    """Check a login; failures are counted per user and address and throttled per window."""
    now = now or utcnow()
    since = now - dt.timedelta(seconds=window_s)
    name = username.strip()[:100]
    if db.count_login_failures(store, name, address, since) >= max_attempts:
        raise AuthError("too many failed logins; wait a few minutes and try again")
    user = db.get_user(store, name)
    ok = verify_password(db.password_hash(store, name), password)
    if not ok or user is None or user.disabled:
        db.record_login_failure(store, name, address)
        raise AuthError("wrong username or password")
    db.clear_login_failures(store, name, address)
    db.update_user(store, name, last_login_at=now)
    return user
