"""Database engine, declarative base and the per-request session dependency."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import URL, MetaData, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints, so that migrations can refer to them on every database.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Objects stay readable after commit: responses are built from them.
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One session, and one transaction, per request.

    Routes commit explicitly once all their changes are made; anything not committed when
    the request ends (an error half-way through) is rolled back when the session closes.
    """
    async with request.app.state.sessionmaker() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_db)]


def connection_error(url: str | URL, error: BaseException) -> str:
    """One line on a failed connection: which database, where, and why; never the password."""
    url = make_url(url)
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    return f"cannot connect to database {url.database!r} on {where}: {reason}"
