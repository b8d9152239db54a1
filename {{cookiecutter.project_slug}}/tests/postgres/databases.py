"""This run's own database, cloned from the migrated template: created, marked, held, dropped.

Guarantee: `template_database(admin, server, digest, build)` is the name of a database holding
the schema of the migrations whose content hashes to `digest`, `pytest_template_<digest>`,
marked as the suite's template (`TEMPLATE_MARK`). It is built once per server: under an
advisory lock (concurrent runs wait for the one building it), as a run's database (a killed
build is reaped as one), and renamed and marked in one transaction: a database with that name
and mark is complete. Runs clone it (a run alone on the embedded server uses it: plugin.py).
`run_database(admin, server, template)` creates a new database named `pytest_<12 hex digits>`
(a copy of `template`, or empty), marks it as the suite's (its comment is `MARK`, which no
one else's database carries by accident), holds an advisory lock for it on the `admin`
connection for as long as it is in use (a live run's lock: reaper.py never drops a database
whose lock is held), and drops it at the end (on a throwaway server, deleted whole just
after, it may leave it instead). The database `admin` is connected to is only used to run
these statements: no other database on the server is created, changed or dropped here.
"""

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator

import psycopg
from psycopg import sql
from sqlalchemy import URL

PREFIX = "pytest_"
MARK = "pytest run database (tests/postgres), dropped when its run ends: 7e57db6f1c2a"
TEMPLATE_PREFIX = "pytest_template_"
TEMPLATE_MARK = "pytest template database (tests/postgres), the migrated schema: 7e57db6f1c2a"
LOCK_NAMESPACE = 0x7E57  # first key of the advisory locks held by live runs


def conninfo(url: URL) -> str:
    """`url` as psycopg takes it (password included: never print it)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def admin_connection(server: URL) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the database `server` names (CREATE and DROP need one)."""
    with psycopg.connect(conninfo(server), autocommit=True) as admin:
        yield admin


def template_database(
    admin: psycopg.Connection, server: URL, digest: str, build: Callable[[URL], None]
) -> str:
    """The name of the marked template for `digest`; `build(url)` migrates it, if it is new."""
    name = template_name(digest)
    if is_template(admin, name):
        return name
    lock(admin, name)  # one builder per server and digest
    try:
        if not is_template(admin, name):  # nobody built it while this run waited
            with run_database(admin, server) as scratch:  # a killed build is reaped
                build(scratch)  # it leaves no connection open: renaming needs none
                with admin.transaction():
                    rename = sql.SQL("ALTER DATABASE {} RENAME TO {}")
                    built = str(scratch.database)  # run_database always names one
                    admin.execute(rename.format(sql.Identifier(built), sql.Identifier(name)))
                    comment = sql.SQL("COMMENT ON DATABASE {} IS {}")
                    admin.execute(comment.format(sql.Identifier(name), sql.Literal(TEMPLATE_MARK)))
        return name
    finally:
        unlock(admin, name)


def template_name(digest: str) -> str:
    return f"{TEMPLATE_PREFIX}{digest}"


def is_template(admin: psycopg.Connection, name: str) -> bool:
    row = admin.execute(
        "SELECT 1 FROM pg_database WHERE datname = %s AND shobj_description(oid, 'pg_database') = %s",
        [name, TEMPLATE_MARK],
    ).fetchone()
    return row is not None


@contextlib.contextmanager
def run_database(
    admin: psycopg.Connection, server: URL, template: str | None = None, drop: bool = True
) -> Iterator[URL]:
    """A new, marked database of this run's own (a copy of `template`); its URL. Dropped at
    the end, unless `drop` is false: on a throwaway server, deleted whole just after."""
    name = f"{PREFIX}{uuid.uuid4().hex[:12]}"
    lock(admin, name)  # before it exists: a marked database is never unlocked while in use
    create = "CREATE DATABASE {} TEMPLATE {}" if template else "CREATE DATABASE {}"
    if copies_files(admin):
        create += " STRATEGY FILE_COPY"
    admin.execute(sql.SQL(create).format(*map(sql.Identifier, filter(None, (name, template)))))
    try:
        admin.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(MARK))
        )
        yield server.set(database=name)
    finally:
        if drop:
            wait_until_unused(admin, name)
            drop_database(admin, name, force=True)  # ours, and nobody else's: its connections go
        unlock(admin, name)


def wait_until_unused(admin: psycopg.Connection, name: str, timeout_s: float = 1.0) -> None:
    """Wait, briefly, for the server processes of connections just closed to `name` to end.

    They end a few milliseconds after their client closes, and DROP DATABASE, finding one
    still there, looks again only 100 ms later: this looks every 2 ms instead."""
    deadline = time.monotonic() + timeout_s
    used = "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = %s)"
    while (row := admin.execute(used, [name]).fetchone()) and row[0]:
        if time.monotonic() > deadline:
            return  # still in use: DROP ... WITH (FORCE) ends them
        time.sleep(0.002)


def copies_files(admin: psycopg.Connection) -> bool:
    """Whether to clone by copying the template's files (PostgreSQL 15 and later), which takes
    a checkpoint before and after: on a server that does not sync to disk (a throwaway one,
    like the embedded server) they cost nothing, and the clone is several times faster than
    PostgreSQL's default, which writes every page of it to the WAL."""
    if admin.info.server_version < 150000:
        return False
    row = admin.execute("SELECT current_setting('fsync') = 'off'").fetchone()
    return bool(row and row[0])


def drop_database(admin: psycopg.Connection, name: str, force: bool = False) -> None:
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
