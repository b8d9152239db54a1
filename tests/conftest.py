"""Fixtures for testing the template: baked projects, their virtualenvs, a PostgreSQL server."""

import contextlib
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.baking import STRATEGIES, Project, bytecode_cache, installed_python
from tests.postgres import throwaway_server


def pytest_configure(config: pytest.Config) -> None:
    """The projects' Pythons keep their bytecode for this run (xdist workers inherit it)."""
    if not hasattr(config, "workerinput"):
        stack = contextlib.ExitStack()
        stack.enter_context(bytecode_cache())
        config.add_cleanup(stack.close)


def bake(cookies, **answers) -> Path:
    """Bake with these answers; fail the test unless it worked."""
    result = cookies.bake(extra_context=answers)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return result.project_path


@pytest.fixture(scope="session")
def postgres_url():
    """One PostgreSQL server for the whole template test run."""
    with throwaway_server() as url:
        yield url


LOOKALIKE = "pytest_0123456789ab"  # named like a run's database, but someone else's


@pytest.fixture(scope="session")
def lookalike(postgres_url):
    """A database named like a test run's own, made by someone else, holding a row of theirs:
    no run may ever drop it. Its URL."""
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {LOOKALIKE}")
        admin.execute(f"CREATE DATABASE {LOOKALIKE}")
    url = urlunsplit(urlsplit(postgres_url)._replace(path=f"/{LOOKALIKE}"))
    with psycopg.connect(url) as connection:
        connection.execute("CREATE TABLE reports (id int PRIMARY KEY, body text)")
        connection.execute("INSERT INTO reports VALUES (1, 'keep me')")
    yield url
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {LOOKALIKE} WITH (FORCE)")


def lookalike_rows(url: str) -> list[tuple]:
    """The lookalike's rows (fails if it is gone)."""
    with psycopg.connect(url) as connection:
        return connection.execute("SELECT * FROM reports").fetchall()


@pytest.fixture(scope="session", params=STRATEGIES)
def project(request, cookies_session) -> Project:
    """Each strategy baked once, with its requirements-dev.txt installed."""
    path = bake(cookies_session, db_strategy=request.param)
    return Project(path, installed_python(path))


@pytest.fixture(scope="session")
def env(project, postgres_url):
    """What the project's pytest needs: a server URL for the PostgreSQL strategy."""
    return {"TEST_DATABASE_URL": postgres_url} if is_postgres(project) else {}


def is_postgres(project) -> bool:
    return "testcontainers" in (project.path / "requirements-dev.txt").read_text()


def pytest_collection_modifyitems(config, items):
    """Where .ci/run found no Docker engine (DESELECT_DOCKER=1), the tests marked `docker`
    are deselected, whatever `-m` was given: pytest reports them as deselected."""
    if os.environ.get("DESELECT_DOCKER") != "1":
        return
    docker = [item for item in items if item.get_closest_marker("docker")]
    if docker:
        config.hook.pytest_deselected(items=docker)
        items[:] = [item for item in items if not item.get_closest_marker("docker")]
