"""This run's own database: created, marked as the suite's, held while in use, dropped.

Guarantee: `run_database(admin, server)` creates a new database named `pytest_<12 hex digits>`,
marks it as the suite's (its comment is `MARK`, which no one else's database carries by
accident), holds an advisory lock for it on the `admin` connection for as long as it is in
use (a live run's lock: reaper.py never drops a database whose lock is held), and drops it at
the end. The database `admin` is connected to is only used to run these statements: no
other database on the server is created, changed or dropped here.
"""

import contextlib
import uuid
from collections.abc import Iterator

import psycopg
from psycopg import sql
from sqlalchemy import URL

PREFIX = "pytest_"
MARK = "pytest run database (tests/postgres), dropped when its run ends: 7e57db6f1c2a"
LOCK_NAMESPACE = 0x7E57  # first key of the advisory locks held by live runs


def conninfo(url: URL) -> str:
    """`url` as psycopg takes it (password included: never print it)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def admin_connection(server: URL) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the database `server` names (CREATE and DROP need one)."""
    with psycopg.connect(conninfo(server), autocommit=True) as admin:
        yield admin


@contextlib.contextmanager
def run_database(admin: psycopg.Connection, server: URL) -> Iterator[URL]:
    """A new, marked database of this run's own; its URL. Dropped at the end."""
    name = f"{PREFIX}{uuid.uuid4().hex[:12]}"
    lock(admin, name)  # before it exists: a marked database is never unlocked while in use
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        admin.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(MARK))
        )
        yield server.set(database=name)
    finally:
        drop(admin, name, force=True)  # ours, in use by nobody else: its connections go too
        unlock(admin, name)


def drop(admin: psycopg.Connection, name: str, force: bool = False) -> None:
    statement = "DROP DATABASE IF EXISTS {} WITH (FORCE)" if force else "DROP DATABASE IF EXISTS {}"
    admin.execute(sql.SQL(statement).format(sql.Identifier(name)))


def marked_databases(admin: psycopg.Connection) -> list[str]:
    """The databases on the server that carry the suite's mark, live runs' included."""
    rows = admin.execute(
        "SELECT datname FROM pg_database "
        "WHERE starts_with(datname, %s) AND shobj_description(oid, 'pg_database') = %s",
        [PREFIX, MARK],
    ).fetchall()
    return [str(name) for (name,) in rows]


def lock(admin: psycopg.Connection, name: str) -> None:
    admin.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [LOCK_NAMESPACE, name])


def try_lock(admin: psycopg.Connection, name: str) -> bool:
    """Take the lock for `name`, unless a live run holds it."""
    row = admin.execute(
        "SELECT pg_try_advisory_lock(%s, hashtext(%s))", [LOCK_NAMESPACE, name]
    ).fetchone()
    return bool(row and row[0])


def unlock(admin: psycopg.Connection, name: str) -> None:
    admin.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [LOCK_NAMESPACE, name])
