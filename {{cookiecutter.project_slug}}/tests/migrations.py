"""Run the Alembic migrations on a connection the tests own; what they hash to, and what
they built."""

import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, inspect, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from tools.embedded_postgres import (
    EmbeddedPostgres,
    claim,
    reap_orphans,
    scratch_parent,
    scratch_parents,
)

if TYPE_CHECKING:
    from alembic.config import Config

PROJECT_ROOT = Path(__file__).resolve().parents[1]
Schema = dict[str, dict[str, list[str]]]

# Alembic is imported when first used: importing it takes a few tenths of a second, which a
# run that builds no schema (a cached template, or no database at all) need not pay.


def alembic_config(connection: Connection | None = None) -> "Config":
    from alembic.config import Config

    config = Config(PROJECT_ROOT / "alembic.ini")
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection) -> None:
    """`alembic upgrade head` on this connection (migrations/env.py uses it as is)."""
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


def schema(connection: Connection) -> Schema:
    """What the migrations made, by name: every table but Alembic's own with its columns,
    indexes, unique constraints and foreign keys; on PostgreSQL also the enum types, which
    outlive the tables that use them unless a downgrade drops them."""
    inspector = inspect(connection)
    found: Schema = {
        table: {
            "columns": sorted(column["name"] for column in inspector.get_columns(table)),
            "indexes": sorted(str(index["name"]) for index in inspector.get_indexes(table)),
            "unique": sorted(str(u["name"]) for u in inspector.get_unique_constraints(table)),
            "foreign keys": sorted(str(fk["name"]) for fk in inspector.get_foreign_keys(table)),
        }
        for table in inspector.get_table_names()
        if table != "alembic_version"
    }
    if connection.dialect.name == "postgresql":
        types = connection.exec_driver_sql(
            "SELECT typname FROM pg_type JOIN pg_namespace ON pg_namespace.oid = typnamespace "
            "WHERE typtype = 'e' AND nspname = current_schema()"
        )
        if names := sorted(types.scalars()):
            found["(enum types)"] = {"names": names}
    return found


EMBEDDED_PREFIX = "migrations-postgres-"  # in the temporary folder: one per run that needs it


@contextlib.contextmanager
def embedded_postgres() -> Iterator[Engine]:
    """An empty PostgreSQL database (psycopg) on an embedded server of its own, stopped and
    deleted at the end (tools/embedded_postgres.py); servers of killed runs are reaped first.
    For strategies whose tests run on SQLite: the migrations are also meant for production's
    PostgreSQL."""
    for parent in scratch_parents():
        reap_orphans(parent, EMBEDDED_PREFIX)
    folder = Path(tempfile.mkdtemp(prefix=EMBEDDED_PREFIX, dir=scratch_parent()))
    with claim(folder):
        try:
            with EmbeddedPostgres(folder) as server:
                url = make_url(server.url).set(drivername="postgresql+psycopg")
                engine = create_engine(url, poolclass=NullPool)
                try:
                    yield engine
                finally:
                    engine.dispose()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def migrations_digest() -> str:
    """12 hex digits that change whenever a file of migrations/ does (a new migration, an
    edited one, env.py): the key of the schema built from them."""
    digest = hashlib.sha256()
    folder = PROJECT_ROOT / "migrations"
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".mako"}:
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
