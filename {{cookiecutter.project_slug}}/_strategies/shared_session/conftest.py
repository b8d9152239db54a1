"""Database-testing strategy: one shared session, rolled back after each test.

Fixtures and the app under test use the very same `AsyncSession`. It is bound to one
connection inside an outer transaction that is rolled back after the test, so nothing a
test writes survives it. `join_transaction_mode="create_savepoint"` turns every commit
and rollback into a savepoint: the app can commit, or fail and roll back, without
touching the outer transaction or the fixtures' rows.

What this does not test: that a commit is visible from another connection, and anything
that depends on separate sessions (identity map, stale reads). Use postgres_testcontainer
for that.
"""

import httpx2
import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import StaticPool

from app.database import Base, get_db
from app.main import app
from tests.migrations import embedded_postgres, upgrade

pytest_plugins = [
    "tests.parallel",  # what `pytest -n auto` means here
    "tests.heap",  # the garbage collector leaves the collected tests alone
]


def _configure_sqlite(dbapi_connection, _connection_record) -> None:
    # pysqlite and aiosqlite begin transactions on their own, which breaks SAVEPOINT:
    # let SQLAlchemy emit BEGIN itself (SQLAlchemy docs, "Serializable isolation /
    # Savepoints / Transactional DDL"), and turn on foreign keys.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _emit_begin(connection) -> None:
    connection.exec_driver_sql("BEGIN")


@pytest.fixture(scope="session")
async def engine():
    # In memory, kept alive by a single connection: one database per run and xdist worker.
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    event.listen(engine.sync_engine, "connect", _configure_sqlite)
    event.listen(engine.sync_engine, "begin", _emit_begin)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
async def test_db(engine):
    """The one session of the test, shared by the fixtures and the app."""
    async with engine.connect() as connection:
        outer = await connection.begin()
        session = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()


@pytest.fixture
async def client(test_db):
    """The app under test, handed the test's session for every request."""

    async def get_test_db():
        try:
            yield test_db
        except Exception:
            await test_db.rollback()  # back to the last savepoint: fixtures' rows stay
            raise

    app.dependency_overrides[get_db] = get_test_db
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
    del app.dependency_overrides[get_db]


@pytest.fixture(scope="session")
def migrated_engine():
    """A separate in-memory database built by the migrations alone (see test_migrations)."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _emit_begin)
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
