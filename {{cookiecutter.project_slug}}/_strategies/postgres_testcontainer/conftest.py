"""Database-testing strategy: PostgreSQL; sync fixtures, the app on its own async connections.

Server and database (tests/postgres/): the PostgreSQL that `TEST_DATABASE_URL` names, a
Docker container, or an embedded server from a wheel, in that order; a throwaway database
per run and xdist worker, built by the Alembic migrations.

Fixtures write with sync SQLAlchemy (psycopg) and commit for real; tests are plain `def`.
The app reads and writes with async SQLAlchemy (asyncpg) on its own pooled connections, as
in production, through one `TestClient` for the whole run: its event loop lives as long as
the client, so the pool's connections stay usable from test to test, and the app's
lifespan runs once. After each test that used the database, what it wrote is undone.
"""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session

from app.database import get_db, session_factory
from app.main import app
from tests.postgres.reset import RESET

pytest_plugins = [
    "tests.postgres.plugin",  # the server and this run's database
    "tests.parallel",  # what `pytest -n auto` means here
    "tests.heap",  # the garbage collector leaves the collected tests alone
]


@pytest.fixture
def database(migrated_engine):
    """Undoes what a test that used the database wrote, and only that (tests/postgres/reset.py):
    the tables it wrote are emptied, rows the migrations seeded come back. One round trip, on
    the connection the test's session gave back, outside any transaction."""
    yield migrated_engine
    with migrated_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(RESET)


@pytest.fixture
def test_db(database):
    """The fixtures' session: sync, and its commits are real."""
    with Session(database) as session:
        yield session


@pytest.fixture(scope="session")
def app_client(database_url, migrated_engine):
    """The app under test for the whole run, on a pool of its own asyncpg connections."""
    engine = create_async_engine(database_url.set(drivername="postgresql+asyncpg"))
    sessionmaker = session_factory(engine)

    async def get_test_db():
        async with sessionmaker() as session:
            yield session

    app.dependency_overrides[get_db] = get_test_db
    with TestClient(app) as client:
        yield client
        assert client.portal is not None  # the client's event loop, open inside `with`
        client.portal.call(engine.dispose)  # in the loop its connections belong to
    del app.dependency_overrides[get_db]


@pytest.fixture
def client(app_client, database):
    """The app under test; what the test wrote is undone after it."""
    return app_client
