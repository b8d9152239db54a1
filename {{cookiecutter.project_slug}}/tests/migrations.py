"""Run the Alembic migrations on a connection the tests own; what they hash to."""

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.config import Config

PROJECT_ROOT = Path(__file__).resolve().parents[1]

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
