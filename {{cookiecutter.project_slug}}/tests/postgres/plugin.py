"""The pytest side of tests/postgres: the only module here that imports pytest.

Loaded by `tests/conftest.py` (`pytest_plugins = ["tests.postgres.plugin"]`).
PYTEST_DONT_REWRITE (it has no asserts to rewrite).

A server is started only for a run that will use it: after collection, if a selected test
uses the database (never for `--collect-only`, nor a run of database-free tests); or, for
an xdist run, before its workers start (they inherit it through TEST_DATABASE_URL), since
only they collect. The server is chosen (server.py) and reached there, or the run stops
with one line and exit code 4; the report says which server it is. A malformed
TEST_DATABASE_URL stops every run at its start; every run (not its workers) first reaps
killed runs' embedded servers.
Lazily, for tests that use the database: each run or worker reaps killed runs' databases
(reaper.py), then gets its own database (databases.py), a clone of the template migrated
(and given the reset, reset.py) once per server and set of migrations (on the embedded
server, once per machine: its cached cluster holds the template). On a server the run
started itself (throwaway()), there is nothing to reap, and its databases go with it; a run
alone on the embedded server uses the template in it.
"""

import contextlib
import functools
import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, make_url
from sqlalchemy.pool import NullPool

from tests.migrations import migrations_digest, upgrade
from tests.postgres import databases, reaper, reset, server
from tools.embedded_postgres import cached_cluster

SERVER = pytest.StashKey[str]()  # which server this run uses, for the report
THROWAWAY_INPUT = "postgres_throwaway"  # throwaway(), for xdist workers (workerinput)
DATABASE_FIXTURES = {"database_url", "empty_postgres"}  # a test using one needs a server


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "postgres_image",
        "Docker image of the throwaway PostgreSQL, when TEST_DATABASE_URL is not set",
        default="postgres:18-alpine",
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    try:
        server.configured_url()  # a malformed URL: one line, before anything else
    except server.ServerError as exc:
        raise pytest.UsageError(str(exc)) from None
    if hasattr(config, "workerinput"):
        return
    server.reap_embedded()  # killed runs' servers, whether this run needs one or not
    if config.pluginmanager.has_plugin("dsession"):  # an xdist controller: it never collects
        provide_server(config)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput") or config.option.collectonly or SERVER in config.stash:
        return
    if any(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())) for item in session.items):
        provide_server(config)


def ensure_server(config: pytest.Config) -> None:
    """The run's server, for a fixture that needs it when collection did not see a test using
    it (a worker's controller provided it already)."""
    if not hasattr(config, "workerinput") and SERVER not in config.stash:
        provide_server(config)


def provide_server(config: pytest.Config) -> None:
    """Choose, start if needed, and reach the run's server, or stop the run in one line."""
    try:
        url = server.configured_url()
        source = server.SETTING
        if url is not None:
            server.check_reachable(source, url)
        else:
            stack = contextlib.ExitStack()
            config.add_cleanup(stack.close)
            image = config.getini("postgres_image")
            source, started = server.start(image, stack, embedded_cluster)
            os.environ[server.SETTING] = started  # xdist workers inherit it
    except server.ServerError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SERVER] = source


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """An xdist worker learns whether its controller started the server (xdist's hook)."""
    node.workerinput[THROWAWAY_INPUT] = throwaway(node.config)


def throwaway(config: pytest.Config) -> bool:
    """Whether the server is this run's own, deleted whole at its end (nothing to drop on it,
    and no killed run's database to reap: it started from the cached cluster)."""
    if hasattr(config, "workerinput"):
        return bool(config.workerinput.get(THROWAWAY_INPUT))
    return config.stash.get(SERVER, server.SETTING) != server.SETTING  # not the configured one


def pytest_report_header(config: pytest.Config) -> str | None:
    if source := config.stash.get(SERVER, None):
        return f"PostgreSQL: {source}"
    return None


def pytest_report_collectionfinish(config: pytest.Config) -> str | None:
    if not config.pluginmanager.has_plugin("dsession"):  # else the header said it
        return pytest_report_header(config)
    return None


def build_template(url: URL) -> None:
    """`alembic upgrade head` on a new database, then the reset put in (reset.py); no
    connection to it stays open."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        upgrade(connection)
        reset.install(connection)
    engine.dispose()


@functools.cache  # the files it reads do not change during a run
def template_digest() -> str:
    """12 hex digits that change whenever the migrations or the reset do: the template's key."""
    return hashlib.sha256((migrations_digest() + reset.DIGEST).encode()).hexdigest()[:12]


def template(admin, url: URL) -> str:
    return databases.template_database(admin, url, template_digest(), build_template)


def embedded_cluster() -> Path:
    """The embedded server's cached cluster for these migrations and reset, the template in
    it."""

    def prepare(started: str) -> None:
        url = make_url(started).set(drivername="postgresql+psycopg")
        with databases.admin_connection(url) as admin:
            template(admin, url)

    return cached_cluster(f"migrations-{template_digest()}", prepare)


@pytest.fixture(scope="session")
def database_url(request):
    """URL of this run's (this worker's) own database, a clone of the migrated template,
    dropped at the end; on a server the run started (throwaway()), the server goes instead.
    A run alone on the embedded server (no xdist workers) uses the template itself: that
    server's cluster is this run's own copy of the cached one, template included."""
    config = request.config
    ensure_server(config)
    url = server.chosen_url()
    if config.stash.get(SERVER, None) == server.EMBEDDED:  # never a worker's: they clone
        yield url.set(database=databases.template_name(template_digest()))
        return
    own_server = throwaway(config)
    with databases.admin_connection(url) as admin:
        if not own_server:
            reaper.reap_databases(admin)
        clone = databases.run_database(admin, url, template(admin, url), drop=not own_server)
        with clone as database:
            yield database


@pytest.fixture(scope="session")
def migrated_engine(database_url):
    """A sync (psycopg) engine on this run's database, its schema built by the migrations
    (cloned from the template). tests/test_migrations.py checks it against the models."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def empty_postgres(request):
    """A sync (psycopg) engine on a new, empty database of this run, dropped after the test:
    tests/test_migrations.py runs every migration up and down on it."""
    ensure_server(request.config)
    url = server.chosen_url()
    with databases.admin_connection(url) as admin, databases.run_database(admin, url) as empty:
        engine = create_engine(empty, poolclass=NullPool)
        yield engine
        engine.dispose()
