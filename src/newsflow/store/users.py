"""Editor accounts and failed-login records.  Password hashing lives in newsflow.accounts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from newsflow.clock import utcnow
from newsflow.models import User
from newsflow.store import Store
from newsflow.store.schema import login_failures, users


def _user(row: Any) -> User:
    return User(id=row.id, username=row.username, role=row.role, email=row.email,
                disabled=bool(row.disabled), created_at=row.created_at,
                last_login_at=row.last_login_at)


def insert_user(store: Store, username: str, password_hash: str, role: str,
                email: str | None = None) -> User:
    with store.write() as c:
        new_id = c.execute(users.insert().values(
            username=username, password_hash=password_hash, role=role, email=email,
            disabled=False, created_at=utcnow())).inserted_primary_key[0]  # type: ignore[index]
        row = c.execute(users.select().where(users.c.id == new_id)).one()
    return _user(row)


def get_user(store: Store, username: str) -> User | None:
    with store.read() as c:
        row = c.execute(users.select().where(users.c.username == username)).first()
    return _user(row) if row else None


def get_user_by_id(store: Store, user_id: int) -> User | None:
    with store.read() as c:
        row = c.execute(users.select().where(users.c.id == user_id)).first()
    return _user(row) if row else None


def password_hash(store: Store, username: str) -> str | None:
    with store.read() as c:
        return c.execute(sa.select(users.c.password_hash)
                         .where(users.c.username == username)).scalar()


def list_users(store: Store) -> list[User]:
    with store.read() as c:
        return [_user(r) for r in c.execute(users.select().order_by(users.c.username))]


def update_user(store: Store, username: str, **values: Any) -> bool:
    with store.write() as c:
        res = c.execute(users.update().where(users.c.username == username).values(**values))
        return res.rowcount > 0


def record_login_failure(store: Store, username: str, address: str) -> None:
    with store.write() as c:
        c.execute(login_failures.insert().values(username=username, address=address,
                                                 at=utcnow()))


def count_login_failures(store: Store, username: str, address: str, since: dt.datetime) -> int:
    with store.read() as c:
        return int(c.execute(
            sa.select(sa.func.count()).select_from(login_failures).where(
                login_failures.c.username == username, login_failures.c.address == address,
                login_failures.c.at >= since)).scalar() or 0)


def clear_login_failures(store: Store, username: str, address: str) -> None:
    with store.write() as c:
        c.execute(login_failures.delete().where(login_failures.c.username == username,
                                                login_failures.c.address == address))
