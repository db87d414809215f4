"""On PostgreSQL the suite runs as the application role, as production does.

pytest-django creates and migrates the test database as the user of DATABASE_URL (a superuser);
then `shanzhi.audit.roles_set_up` makes an owner and an application role for that database
(named after it, so that two suites on one server never share roles), and every connection from
there on is the application role's. Django's flush after a transactional test truncates every
table, which the application role may not do: it runs as the owner.
"""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connections
from django.test import TransactionTestCase

from shanzhi import audit


@dataclass(frozen=True)
class Login:
    user: str
    password: str


@dataclass(frozen=True)
class Roles:
    superuser: Login
    owner: Login
    app: Login


ACTIVE: list[Roles] = []


def _connect_as(login: Login) -> None:
    for connection in connections.all(initialized_only=True):
        connection.close()
    for alias in connections:
        settings_dict = connections[alias].settings_dict
        settings_dict["USER"], settings_dict["PASSWORD"] = login.user, login.password


@contextmanager
def connected_as(login: Login) -> Iterator[None]:
    """Every connection as `login` inside the block, as the application role after it."""
    _connect_as(login)
    try:
        yield
    finally:
        _connect_as(ACTIVE[0].app if ACTIVE else login)


_flush_as_app = TransactionTestCase._fixture_teardown


def _flush_as_owner(self: TransactionTestCase) -> None:
    with connected_as(ACTIVE[0].owner):
        _flush_as_app(self)


def restricted_start() -> Roles:
    """Set the roles up on the (new) test database and connect as the application role."""
    connection = connections["default"]
    name = connection.settings_dict["NAME"]
    roles = Roles(
        superuser=Login(connection.settings_dict["USER"], connection.settings_dict["PASSWORD"]),
        owner=Login(f"{name}_owner"[:63], secrets.token_urlsafe(16)),
        app=Login(f"{name}_app"[:63], secrets.token_urlsafe(16)),
    )
    audit.roles_set_up(
        connection,
        owner=roles.owner.user,
        app=roles.app.user,
        owner_password=roles.owner.password,
        app_password=roles.app.password,
    )
    ACTIVE.append(roles)
    TransactionTestCase._fixture_teardown = _flush_as_owner  # type: ignore[method-assign]
    _connect_as(roles.app)
    return roles


def restricted_end() -> None:
    """Back to the superuser, who drops the test database."""
    roles = ACTIVE.pop()
    TransactionTestCase._fixture_teardown = _flush_as_app  # type: ignore[method-assign]
    _connect_as(roles.superuser)
