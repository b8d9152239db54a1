"""The pytest side of tests/postgres: the only module here that imports pytest.

Loaded by `tests/conftest.py` (`pytest_plugins = ["tests.postgres.plugin"]`).
PYTEST_DONT_REWRITE (it has no asserts to rewrite).

Once per run, before any test (`pytest_sessionstart`, in the xdist controller only): the
server is chosen (server.py) and reached, or the run stops with one line and exit code 4;
xdist workers inherit it through TEST_DATABASE_URL. The report header says which it is.
Lazily, for tests that use the database: each run or worker reaps killed runs' databases
(reaper.py), then gets its own database (databases.py), built by the Alembic migrations.
"""

import contextlib
import os

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from tests.migrations import upgrade
from tests.postgres import databases, reaper, server

SERVER = pytest.StashKey[str]()  # which server this run uses, for the report header


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "postgres_image",
        "Docker image of the throwaway PostgreSQL, when TEST_DATABASE_URL is not set",
        default="postgres:18-alpine",
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    try:
        url = server.configured_url()
        if hasattr(config, "workerinput"):
            return  # an xdist worker: its controller chose the server
        source = server.SETTING
        if url is None:
            stack = contextlib.ExitStack()
            config.add_cleanup(stack.close)
            source, started = server.start(config.getini("postgres_image"), stack)
            os.environ[server.SETTING] = started  # xdist workers inherit it
        server.check_reachable(source, server.chosen_url())
    except server.ServerError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SERVER] = source


def pytest_report_header(config: pytest.Config) -> str | None:
    if source := config.stash.get(SERVER, None):
        return f"PostgreSQL: {source}"
    return None


@pytest.fixture(scope="session")
def database_url():
    """URL of this run's (this worker's) own database, dropped at the end."""
    url = server.chosen_url()
    with databases.admin_connection(url) as admin:
        reaper.reap_databases(admin)
        with databases.run_database(admin, url) as database:
            yield database


@pytest.fixture(scope="session")
def migrated_engine(database_url):
    """A sync (psycopg) engine on this run's database, its schema built by the migrations.

    tests/test_migrations.py checks it against the models.
    """
    engine = create_engine(database_url)
    with engine.begin() as connection:
        upgrade(connection)
    yield engine
    engine.dispose()


@pytest.fixture
def empty_postgres():
    """A sync (psycopg) engine on a new, empty database of this run, dropped after the test:
    tests/test_migrations.py runs every migration up and down on it."""
    url = server.chosen_url()
    with databases.admin_connection(url) as admin, databases.run_database(admin, url) as empty:
        engine = create_engine(empty, poolclass=NullPool)
        yield engine
        engine.dispose()
