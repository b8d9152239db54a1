"""Database-testing strategy: all async, on SQLite.

Fixtures and the app under test share one async engine: an in-memory SQLite database
(aiosqlite), one per test run and per xdist worker, so nothing is written to disk. Tests
are `async def` and reach the app through httpx's ASGITransport, in the same event loop
as the fixtures. Fixtures and requests commit for real; after each test every table is
emptied in one short transaction.
"""

import httpx2
import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import StaticPool

from app.database import Base, get_db, session_factory
from app.main import app
from tests.migrations import embedded_postgres, upgrade

pytest_plugins = [
    "tests.parallel",  # what `pytest -n auto` means here
    "tests.heap",  # the garbage collector leaves the collected tests alone
]


def _enforce_foreign_keys(dbapi_connection, _connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@pytest.fixture(scope="session")
async def engine():
    # StaticPool: a single connection, which is what keeps an in-memory database alive.
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    event.listen(engine.sync_engine, "connect", _enforce_foreign_keys)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


# Children first, so that no foreign key is ever violated; one transaction.
EMPTY_EVERY_TABLE = "\n".join(
    [
        "BEGIN;",
        *(f'DELETE FROM "{table.name}";' for table in reversed(Base.metadata.sorted_tables)),
        "COMMIT;",
    ]
)


@pytest.fixture
async def sessionmaker(engine):
    """Sessions on the shared engine; the tables are emptied after the test.

    As one script: aiosqlite hands every call to its own thread and waits for the answer,
    and one call instead of one per table (plus BEGIN and COMMIT) makes the reset about
    three times cheaper.
    """
    yield session_factory(engine)
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        await raw.driver_connection.executescript(EMPTY_EVERY_TABLE)


@pytest.fixture
async def test_db(sessionmaker):
    """The fixtures' session."""
    async with sessionmaker() as session:
        yield session


@pytest.fixture
async def client(sessionmaker):
    """The app under test, with a session of its own per request on the shared engine."""

    async def get_test_db():
        async with sessionmaker() as session:
            yield session

    app.dependency_overrides[get_db] = get_test_db
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    del app.dependency_overrides[get_db]


@pytest.fixture(scope="session")
def migrated_engine():
    """A separate in-memory database built by the migrations alone (see test_migrations)."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    event.listen(engine, "connect", _enforce_foreign_keys)
    with engine.begin() as connection:
        upgrade(connection)
    yield engine
    engine.dispose()


@pytest.fixture
def empty_postgres():
    """An empty database on an embedded PostgreSQL (about a second to start, only for the
    test that asks for it): the migrations go up and down on the database production runs."""
    with embedded_postgres() as engine:
        yield engine
