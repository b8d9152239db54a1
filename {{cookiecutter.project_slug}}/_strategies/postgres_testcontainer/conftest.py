"""Database-testing strategy: a throwaway PostgreSQL database per test run.

Server: the one `TEST_DATABASE_URL` names, if set; otherwise a PostgreSQL container
started with testcontainers (image: `postgres_image` in pyproject.toml), one per run and
shared by all xdist workers.

Database: each run, and each xdist worker, creates its own database on that server, named
`pytest_<12 hex digits>`, builds the schema with the Alembic migrations, and drops it at
the end. The database the URL names is only used to create and drop these: its tables are
never touched. A run that was killed leaves its database behind; the next run drops it
(a live run holds an advisory lock for its database, a dead one no longer does).

Fixtures write with sync SQLAlchemy (psycopg) and commit; the app reads and writes with
async SQLAlchemy (asyncpg) on its own connections, as in production. After each test that
used the database, every table is emptied.
"""

import os
import uuid

import docker.errors
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from testcontainers.community.postgres import PostgresContainer

from app.database import Base, get_db, session_factory
from app.main import app
from tests.migrations import upgrade

DATABASE_PREFIX = "pytest_"
LOCK_NAMESPACE = 0x7E57  # first key of the advisory locks that mark a database as in use


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "postgres_image",
        "Docker image of the throwaway PostgreSQL, when TEST_DATABASE_URL is not set",
        default="postgres:17-alpine",
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput") or os.environ.get("TEST_DATABASE_URL"):
        return  # an xdist worker (its controller chose the server), or a server is given
    image = session.config.getini("postgres_image")
    try:
        container = PostgresContainer(image, driver="psycopg").start()
    except docker.errors.DockerException as exc:
        pytest.exit(
            f"Cannot start a PostgreSQL container ({exc}). Start Docker, or point the tests "
            "at a server you have: TEST_DATABASE_URL=postgresql://user:password@host:5432/postgres",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
    session.config.add_cleanup(container.stop)
    os.environ["TEST_DATABASE_URL"] = container.get_connection_url()  # workers inherit it


def _server_url() -> URL:
    return make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")


def _drop_stale_databases(admin) -> None:
    """Drop the databases of runs that died: nobody holds their lock or is connected."""
    stale = admin.scalars(
        text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
        {"prefix": DATABASE_PREFIX},
    ).all()
    for name in stale:
        if not admin.scalar(text("SELECT pg_try_advisory_lock(:ns, hashtext(:name))"), _lock(name)):
            continue  # a live run's
        try:
            admin.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        except DBAPIError:
            pass  # someone is still connected to it: leave it for a later run
        finally:
            admin.execute(text("SELECT pg_advisory_unlock(:ns, hashtext(:name))"), _lock(name))


def _lock(name: str) -> dict:
    return {"ns": LOCK_NAMESPACE, "name": name}


@pytest.fixture(scope="session")
def database_url():
    """URL of this run's (this worker's) own database, dropped at the end."""
    server = _server_url()
    name = f"{DATABASE_PREFIX}{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin_engine.connect() as admin:
        _drop_stale_databases(admin)
        admin.execute(text("SELECT pg_advisory_lock(:ns, hashtext(:name))"), _lock(name))
        admin.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name)
        finally:
            admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin_engine.dispose()


@pytest.fixture(scope="session")
def sync_engine(database_url):
    """The fixtures' engine (psycopg). The schema is built by the migrations."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        upgrade(connection)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_engine(sync_engine):
    """For the drift test (tests/test_migrations.py): the database the migrations built."""
    return sync_engine


# Children first, so that no foreign key is ever violated; sent as one statement.
EMPTY_EVERY_TABLE = "; ".join(
    f'DELETE FROM "{table.name}"' for table in reversed(Base.metadata.sorted_tables)
)


@pytest.fixture
def database(sync_engine):
    """Empties every table after a test that used the database.

    DELETE, not TRUNCATE: a test leaves a handful of rows, which DELETE removes in well
    under a millisecond, where TRUNCATE makes new files for every table and index
    (5-20 ms a test). A test that writes many thousands of rows is the exception.
    """
    yield sync_engine
    with sync_engine.begin() as connection:
        connection.exec_driver_sql(EMPTY_EVERY_TABLE)


@pytest.fixture
def test_db(database):
    """The fixtures' session: sync, and its commits are real."""
    with Session(database) as session:
        yield session


@pytest.fixture(scope="session")
def app_sessionmaker(database_url):
    # NullPool: every request opens its own asyncpg connection in the event loop of the
    # TestClient that serves it; a pooled connection would outlive that loop.
    engine = create_async_engine(
        database_url.set(drivername="postgresql+asyncpg"), poolclass=NullPool
    )
    return session_factory(engine)


@pytest.fixture
def client(database, app_sessionmaker):
    """The app under test, on its own async connections to the same database."""

    async def get_test_db():
        async with app_sessionmaker() as session:
            yield session

    app.dependency_overrides[get_db] = get_test_db
    with TestClient(app) as client:
        yield client
    del app.dependency_overrides[get_db]
