"""Alembic environment: async engine from the app's settings.

Tests hand in their own (sync) connection through `config.attributes["connection"]`.
A database that cannot be reached ends the command with one line naming it, not a traceback.
"""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import app.models  # noqa: F401  (registers every table on Base.metadata)
from app.config import get_settings
from app.database import Base, connection_error

config = context.config
target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    url = get_settings().database_url
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        connection = await engine.connect()
    except (OSError, DBAPIError) as exc:
        raise SystemExit(f"Error: {connection_error(url, exc)}") from None
    try:
        await connection.run_sync(run_migrations)
    finally:
        await connection.close()
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=get_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
elif (connection := config.attributes.get("connection")) is not None:
    run_migrations(connection)
else:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    asyncio.run(run_async_migrations())
