"""The baked PostgreSQL project's login limit, served by two uvicorn worker processes.

With `RATE_LIMIT_STORAGE_URL=memory://` each worker counts on its own, so the limit of
LIMIT failed logins per client is passed as soon as both workers take requests: that half
shows the check below can fail, and that production warns about it at start-up. With a real
Redis (Debian's `redis-server`, on a free loopback port, nothing written to disk) both
workers share the counters: exactly LIMIT failures get a 401, every later attempt a 429.

Each attempt goes over a new connection, so the kernel hands them to either worker; each
uses a different unknown email, so only the per-client budget is at play.
"""

import json
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.baking import clean_env, installed_python
from tests.conftest import bake
from tests.serving import free_port, new_database, run_python, stop, uvicorn

LIMIT = 3  # failed logins per client address and minute
ATTEMPTS = 8 * LIMIT
WORKERS = 2
WARNING = "RATE_LIMIT_STORAGE_URL is memory://"


@pytest.fixture(scope="module")
def served(cookies_session, postgres_url, tmp_path_factory):
    """`served(storage_url)`: (log, server) for the migrated project, served in production
    mode with two workers; entering the server starts it."""
    project = bake(
        cookies_session, project_slug="login-limits", db_strategy="postgres_testcontainer"
    )
    python = installed_python(project)
    with new_database(postgres_url, "limits") as database_url:
        settings = {
            "ENVIRONMENT": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
            "LOGIN_RATE_LIMIT": f"{LIMIT}/minute",
        }
        run_python(python, project, clean_env(settings), "-m", "alembic", "upgrade", "head")

        def serve(storage_url: str):
            env = clean_env(settings | {"RATE_LIMIT_STORAGE_URL": storage_url})
            log = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
            return log, uvicorn(python, project, env, log, workers=WORKERS)

        yield serve


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A Redis server on a free loopback port, in a temporary folder, saving nothing."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: apt-get install redis-server (.ci/run does)")
    workdir = tmp_path_factory.mktemp("redis")
    port = free_port()
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(workdir),
               "--save", "", "--appendonly", "no", "--daemonize", "no"]  # fmt: skip
    log = workdir / "redis.log"
    with open(log, "w") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_for_redis(server, port, log)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(server)


def _wait_for_redis(server: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"redis-server exited with {server.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"redis-server did not answer within 15 s:\n{log.read_text()}")


def failed_logins(base_url: str) -> list[int]:
    """The status of ATTEMPTS wrong logins, each over a new connection."""
    statuses = []
    for n in range(ATTEMPTS):
        body = json.dumps({"email": f"guess{n}@example.com", "password": "wrong"}).encode()
        request = urllib.request.Request(
            f"{base_url}/auth/login", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


def test_in_memory_counters_multiply_with_workers_and_warn(served):
    log, server = served("memory://")
    with server as base_url:
        statuses = failed_logins(base_url)

    assert set(statuses) == {401, 429}
    assert statuses.count(401) > LIMIT, f"every attempt reached the same worker: {statuses}"
    # Once per worker process, at start-up.
    assert log.read_text().count(WARNING) == WORKERS, log.read_text()


def test_redis_counters_hold_across_workers(served, redis_url):
    log, server = served(redis_url)
    with server as base_url:
        statuses = failed_logins(base_url)

    assert statuses == [401] * LIMIT + [429] * (ATTEMPTS - LIMIT)
    server_log = log.read_text()
    assert WARNING not in server_log
    assert "Traceback" not in server_log, server_log
