"""Run the Alembic migrations on a connection the tests own."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(PROJECT_ROOT / "alembic.ini")
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection) -> None:
    """`alembic upgrade head` on this connection (migrations/env.py uses it as is)."""
    command.upgrade(alembic_config(connection), "head")
