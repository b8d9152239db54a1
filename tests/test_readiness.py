"""The baked service's readiness, served by uvicorn against a real PostgreSQL database that
goes away and comes back.

"Away": the database stops taking connections (`ALLOW_CONNECTIONS false`) and the app's
pooled ones are terminated, as a restart or a failover does to them. Readiness must answer
503 within READY_WITHIN seconds while liveness still answers 200, and 200 again once the
database is back, with the same process.
"""

import json
import time
import urllib.error
import urllib.request

import psycopg
import pytest
from psycopg import sql

from tests.baking import clean_env, installed_python
from tests.conftest import bake
from tests.serving import new_database, uvicorn

READY_WITHIN = 2.0  # seconds


def get(url: str) -> tuple[int, dict, float]:
    """Status, JSON body and seconds taken."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    return status, json.loads(body), time.monotonic() - started


def allow_connections(postgres_url: str, database: str, allowed: bool) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(
                sql.Identifier(database), sql.Literal(allowed)
            )
        )
        if not allowed:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [database],
            )


@pytest.fixture(scope="module")
def served(cookies_session, postgres_url, tmp_path_factory):
    """(base URL, database name): the service on a new, empty database (readiness needs no
    tables)."""
    project = bake(cookies_session, project_slug="ready", db_strategy="postgres_async")
    python = installed_python(project)
    with new_database(postgres_url, "ready") as database_url:
        log = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
        env = clean_env({"DATABASE_URL": database_url})
        with uvicorn(python, project, env, log) as base_url:
            yield base_url, database_url.rsplit("/", 1)[1]


def test_readiness_follows_the_database_and_liveness_does_not(served, postgres_url):
    base_url, database = served
    assert get(f"{base_url}/health/ready")[:2] == (200, {"status": "ready"})

    allow_connections(postgres_url, database, False)
    try:
        status, body, seconds = get(f"{base_url}/health/ready")
        assert (status, seconds < READY_WITHIN) == (503, True), (body, seconds)
        assert body["detail"].startswith("database unreachable"), body
        assert get(f"{base_url}/health")[:2] == (200, {"status": "ok"})
    finally:
        allow_connections(postgres_url, database, True)

    assert get(f"{base_url}/health/ready")[:2] == (200, {"status": "ready"})
