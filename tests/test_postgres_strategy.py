"""The PostgreSQL strategies on a real server: what goes wrong on the hundredth run.

Concurrent runs, the server's own data, no server at all (the embedded one starts), a
killed run's embedded server, and a server that cannot be reached. (Killed runs'
databases: see test_generated_suites.py.)
"""

import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import psycopg
import pytest

from tests.baking import Project, clean_env, installed_python
from tests.conftest import bake
from tests.test_generated_suites import assert_green, throwaway_databases

POSTGRES_STRATEGIES = ("postgres_testcontainer", "postgres_async")
NO_DOCKER = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


@pytest.fixture(scope="module", params=POSTGRES_STRATEGIES)
def pg_project(request, cookies_session) -> Project:
    path = bake(cookies_session, db_strategy=request.param)
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


@pytest.fixture
def own_tmpdir():
    """A TMPDIR of the test's own: the embedded servers it sees are only this test's.

    Short (a Unix socket's path must stay under ~100 characters) and open to others (as
    root, the embedded server runs as `nobody`, inside a folder of its own in there)."""
    folder = Path(tempfile.mkdtemp(prefix="fdt-"))
    folder.chmod(0o755)
    yield folder
    for process in embedded_servers(folder):  # never leave one behind, even on failure
        process.kill()
    subprocess.run(["rm", "-rf", str(folder)], check=False)


def embedded_servers(tmpdir: Path) -> list[psutil.Process]:
    """Running PostgreSQL server processes whose command line names a folder in tmpdir."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "postgres" in cmdline and f"{tmpdir}/pytest-postgres-" in cmdline:
            found.append(process)
    return found


def test_no_url_and_no_docker_runs_on_the_embedded_server(pg_project, own_tmpdir):
    result = pg_project.pytest("-v", env=NO_DOCKER | {"TMPDIR": str(own_tmpdir)})

    assert_green(result)
    assert "PostgreSQL: embedded" in result.stdout
    assert embedded_servers(own_tmpdir) == []
    assert list(own_tmpdir.glob("pytest-postgres-*")) == []  # its folder is gone too


def test_a_killed_runs_embedded_server_is_reaped_by_the_next_run(pg_project, own_tmpdir):
    env = clean_env(NO_DOCKER | {"TMPDIR": str(own_tmpdir)})
    run = subprocess.Popen(
        [str(pg_project.python), "-m", "pytest", "-p", "no:cacheprovider", "-n", "2"],
        cwd=pg_project.path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: kill pytest and its workers
    )
    deadline = time.monotonic() + 60
    while not list(own_tmpdir.glob("pytest-postgres-*/.s.PGSQL.*")):  # the server listens
        assert time.monotonic() < deadline, "the run never started its embedded server"
        time.sleep(0.1)
    time.sleep(1.5)  # into the tests
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    orphans = embedded_servers(own_tmpdir)
    assert orphans  # a killed run cannot stop its server

    result = pg_project.pytest("tests/test_settings.py", env=env)

    assert_green(result, minimum=5)
    assert not any(process.is_running() for process in orphans)
    assert embedded_servers(own_tmpdir) == []
    assert list(own_tmpdir.glob("pytest-postgres-*")) == []  # its folder is gone too


def test_an_unreachable_server_stops_the_run_at_once_with_one_message(pg_project):
    url = "postgresql://tester:s3cret-password@127.0.0.1:9/team_db"  # port 9: discard, closed

    result = pg_project.pytest(env={"TEST_DATABASE_URL": url})

    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert output.count("Cannot reach the tests' PostgreSQL") == 1, output
    assert "host 127.0.0.1, port 9, database team_db" in output
    assert "s3cret-password" not in output
    assert "Traceback" not in output
    assert not re.search(r"\d+ (passed|failed|errors?)(,| in )", output)  # no test ran
