"""Database-testing strategy: PostgreSQL, all async.

Server and database (tests/postgres/): the PostgreSQL that `TEST_DATABASE_URL` names, a
Docker container, or an embedded server from a wheel, in that order; a throwaway database
per run and xdist worker, built by the Alembic migrations.

Fixtures write through an `AsyncSession` (asyncpg) and commit for real; tests are
`async def`, in one event loop for the whole run (pytest-asyncio), and reach the app
through httpx's ASGITransport. The app reads and writes on a pool of its own asyncpg
connections, so a fixture's row is only visible to it once really committed, as in
production. After each test that used the database, what it wrote is undone.
"""

import asyncpg  # type: ignore[import-untyped]  # it ships no type hints
import httpx2
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.database import get_db, session_factory
from app.main import app
from tests.postgres.databases import conninfo
from tests.postgres.reset import RESET

pytest_plugins = [
    "tests.postgres.plugin",  # the server and this run's database
    "tests.parallel",  # what `pytest -n auto` means here
    "tests.heap",  # the garbage collector leaves the collected tests alone
]


@pytest.fixture(scope="session")
async def fixtures_engine(database_url, migrated_engine):
    """The fixtures' asyncpg connections."""
    engine = create_async_engine(database_url.set(drivername="postgresql+asyncpg"))
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def app_engine(database_url, migrated_engine):
    """The app's asyncpg connections: never the fixtures' ones."""
    engine = create_async_engine(database_url.set(drivername="postgresql+asyncpg"))
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def reset_connection(database_url, migrated_engine):
    """An asyncpg connection of its own for the reset: one round trip, no transaction."""
    connection = await asyncpg.connect(conninfo(database_url))
    yield connection
    await connection.close()


@pytest.fixture
async def database(fixtures_engine, reset_connection):
    """Undoes what a test that used the database wrote, and only that (tests/postgres/reset.py):
    the tables it wrote are emptied, rows the migrations seeded come back."""
    yield fixtures_engine
    await reset_connection.execute(RESET)


@pytest.fixture
async def test_db(database):
    """The fixtures' session."""
    async with session_factory(database)() as session:
        yield session


@pytest.fixture(scope="session")
def app_transport(app_engine):
    sessionmaker = session_factory(app_engine)

    async def get_test_db():
        async with sessionmaker() as session:
            yield session

    app.dependency_overrides[get_db] = get_test_db
    yield httpx2.ASGITransport(app=app)
    del app.dependency_overrides[get_db]


@pytest.fixture
async def client(app_transport, database):
    """The app under test, with a session of its own per request on the app's pool."""
    async with httpx2.AsyncClient(transport=app_transport, base_url="http://test") as client:
        yield client
