"""Database-testing strategy: all async, on SQLite.

Fixtures and the app under test share one async engine: an in-memory SQLite database
(aiosqlite), one per test run and per xdist worker, so nothing is written to disk. Tests
are `async def` and reach the app through httpx's ASGITransport, in the same event loop
as the fixtures. Fixtures and requests commit for real; after each test, the tables it
wrote are emptied in one short transaction.
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
        await connection.run_sync(_track_writes)
    yield engine
    await engine.dispose()


def _track_writes(connection) -> None:
    """Temporary triggers (this connection's own, never in the schema) record each table a
    row is written in, whoever wrote it: the app, a fixture, raw SQL, a foreign key's cascade."""
    connection.exec_driver_sql("CREATE TEMP TABLE written (name TEXT PRIMARY KEY)")
    for table in Base.metadata.sorted_tables:
        for change in ("INSERT", "UPDATE", "DELETE"):
            connection.exec_driver_sql(
                f'CREATE TEMP TRIGGER "{table.name}_{change.lower()}" '
                f'AFTER {change} ON main."{table.name}" '
                f"BEGIN INSERT OR IGNORE INTO written VALUES ('{table.name}'); END"
            )


CHILDREN_FIRST = [table.name for table in reversed(Base.metadata.sorted_tables)]


class Reset:
    """Empties the tables written since the last reset, and only those, children first (no
    foreign key is ever violated), in one transaction.

    Nothing written (the connection's count of rows changed has not moved): nothing to do,
    not even a call. Else two calls: aiosqlite hands each to its own thread and waits for
    the answer, so the deletes go as one script."""

    def __init__(self) -> None:
        self.changes = 0  # the connection's total_changes after the last reset

    async def __call__(self, connection) -> None:
        if connection.total_changes == self.changes:
            return
        written = {name for (name,) in await connection.execute_fetchall("SELECT * FROM written")}
        deletes = [f'DELETE FROM "{name}";' for name in CHILDREN_FIRST if name in written]
        await connection.executescript(
            "\n".join(["BEGIN;", *deletes, "DELETE FROM written;", "COMMIT;"])
        )
        self.changes = connection.total_changes


@pytest.fixture(scope="session")
def reset():
    return Reset()


@pytest.fixture
async def sessionmaker(engine, reset):
    """Sessions on the shared engine; what the test wrote is undone after it."""
    yield session_factory(engine)
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        await reset(raw.driver_connection)


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
