"""The PostgreSQL strategy on a real server: what goes wrong on the hundredth run.

Concurrent runs, the server's own data, and no server at all. (Killed runs: see
test_generated_suites.py.)
"""

import subprocess
import time

import psycopg
import pytest

from tests.baking import Project, clean_env, installed_python
from tests.conftest import bake
from tests.test_generated_suites import assert_green, throwaway_databases


@pytest.fixture(scope="module")
def pg_project(cookies_session) -> Project:
    path = bake(cookies_session, db_strategy="postgres_testcontainer")
    return Project(path, installed_python(path))


def test_concurrent_runs_on_one_server_do_not_collide(pg_project, postgres_url):
    command = [str(pg_project.python), "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    env = clean_env({"TEST_DATABASE_URL": postgres_url})
    runs = [
        subprocess.Popen(
            command + extra, cwd=pg_project.path, env=env, stdout=subprocess.PIPE, text=True
        )
        for extra in (["-n", "2"], [])
    ]

    outputs = [run.communicate(timeout=600)[0] for run in runs]

    assert [run.returncode for run in runs] == [0, 0], "\n".join(outputs)[-4000:]
    assert throwaway_databases(postgres_url) == []


@pytest.fixture
def database_with_data(postgres_url):
    """A database holding a team's own rows, in tables named like the app's."""
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS team_data")
        admin.execute("CREATE DATABASE team_data")
    url = postgres_url.rsplit("/", 1)[0] + "/team_data"
    with psycopg.connect(url) as connection:
        connection.execute("CREATE TABLE users (id int PRIMARY KEY, email text)")
        connection.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        connection.execute("INSERT INTO users VALUES (1, 'therapist@test.com'), (2, 'x@y.z')")
        connection.execute("INSERT INTO notes SELECT n, 'note ' || n FROM generate_series(1, 50) n")
    yield url
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("DROP DATABASE team_data WITH (FORCE)")


def snapshot(url: str) -> dict:
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' ORDER BY 1"
        ).fetchall()
        return {
            name: connection.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall()
            for (name,) in tables
        }


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "two-workers"])
def test_server_data_is_left_exactly_as_it_was(pg_project, database_with_data, workers):
    before = snapshot(database_with_data)

    result = pg_project.pytest(*workers, env={"TEST_DATABASE_URL": database_with_data})

    assert_green(result)
    assert snapshot(database_with_data) == before
    assert set(before) == {"users", "notes"}


def test_no_docker_and_no_url_stops_at_once_with_one_clear_message(pg_project):
    start = time.monotonic()

    result = pg_project.pytest(env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})

    elapsed = time.monotonic() - start
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    output = result.stdout + result.stderr
    assert "Cannot start a PostgreSQL container" in output
    assert "Start Docker" in output and "TEST_DATABASE_URL=" in output
    assert "Traceback" not in output
    assert " passed" not in output and " failed" not in output
    assert elapsed < 15, f"took {elapsed:.1f} s"
