"""Run a baked project for real: its own database on the throwaway PostgreSQL, its
migrations, and uvicorn on 127.0.0.1. Shared by test_live_api and test_rate_limit_redis.
"""

import contextlib
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

STARTUP_SECONDS = 30


@contextlib.contextmanager
def new_database(postgres_url: str, prefix: str) -> Iterator[str]:
    """A new database on the server, as the app's URL (asyncpg); dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            url = urlsplit(postgres_url)._replace(scheme="postgresql+asyncpg", path=f"/{name}")
            yield urlunsplit(url)
        finally:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def run_python(python: Path, project: Path, env: dict[str, str], *args: str) -> str:
    """`python <args>` in the project; its stdout. Fails the test if it fails."""
    done = subprocess.run(
        [python, *args], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@contextlib.contextmanager
def uvicorn(
    python: Path, project: Path, env: dict[str, str], log: Path, workers: int = 1
) -> Iterator[str]:
    """`uvicorn app.main:app` on a free loopback port, its output in `log`; yields its URL
    once every worker has started, and stops it afterwards."""
    port = free_port()
    serve = [python, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        serve += ["--workers", str(workers)]
    with open(log, "w") as output:
        server = subprocess.Popen(
            serve, cwd=project, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_started(server, base_url, log, workers)
        yield base_url
    finally:
        stop(server)


def stop(server: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it is still there 15 s later."""
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_started(server: subprocess.Popen, base_url: str, log: Path, workers: int):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"uvicorn exited with {server.returncode}:\n{log.read_text()}")
        started = log.read_text().count("Application startup complete")
        if started >= workers and _healthy(base_url):
            return
        time.sleep(0.2)
    pytest.fail(f"uvicorn did not start within {STARTUP_SECONDS} s:\n{log.read_text()}")


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=1):
            return True
    except OSError:
        return False
