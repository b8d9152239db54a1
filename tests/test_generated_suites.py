"""Each strategy's generated project runs its own test suite for real, and holds up:
parallel workers, migrations drift, strict warnings, leftovers, killed runs. (In random
order: tests/test_install.py, in the venv the README's uv block makes.)

PostgreSQL-only checks (killed runs, the server's own data, no Docker) are in
test_postgres_strategy.py.
"""

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from tests.baking import Project, clean_env
from tests.conftest import LOOKALIKE, is_postgres, lookalike_rows

MIN_TESTS = 36


def passed(output: str) -> int:
    match = re.search(r"(\d+) passed", output)
    return int(match.group(1)) if match else 0


def throwaway_databases(postgres_url: str, marked: bool = False) -> list[str]:
    """The runs' databases on the server (by name: a missing mark must not hide one), not
    the migrated templates they clone, which stay for the next runs; `marked`: only those
    that already carry the suite's mark (tests/postgres/databases.py)."""
    mark = " AND shobj_description(oid, 'pg_database') LIKE 'pytest run database %%'"
    with psycopg.connect(postgres_url) as connection:
        rows = connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'pytest\\_%%' AND datname <> %s "
            "AND datname NOT LIKE 'pytest\\_template\\_%%'"  # the migrated templates stay
            + (mark if marked else ""),
            [LOOKALIKE],
        ).fetchall()
    return [name for (name,) in rows]


def assert_green(result, minimum: int = MIN_TESTS) -> int:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    count = passed(output)
    assert count >= minimum, output[-2000:]
    assert not re.search(r"\d+ (skipped|xfailed|error)", output), output[-2000:]
    return count


def assert_shuffled_with_every_guard(result) -> None:
    """The suite ran in a shuffled order, and the tests that prove production hashes at
    full cost ran (the suite itself hashes at Argon2's lowest cost)."""
    order = re.findall(r"^(tests/\S+::\S+) PASSED", result.stdout, re.MULTILINE)
    assert order != sorted(order)  # really shuffled
    for guard in ("refuses_minimal_password_hashing", "hashes_passwords_at_full_cost"):
        assert f"tests/test_settings.py::test_production_{guard}" in order


# The app and its tests are the same in every strategy: one sync and one async suite.
@pytest.mark.parametrize("project", ["postgres_testcontainer", "postgres_async"], indirect=True)
def test_sessions_module_passes_with_coverage(project, env):
    result = project.pytest(
        "tests/routers/test_sessions.py",
        "--cov=app.routers.sessions",
        "--cov-report=term",
        "--cov-fail-under=70",
        env=env,
    )

    assert_green(result, minimum=35)


def test_suite_passes_on_two_workers_and_leaves_nothing_behind(
    project, env, postgres_url, lookalike
):
    assert_green(project.pytest("-n", "2", env=env))

    leftovers = [p for pattern in ("*.db", "*.sqlite*") for p in project.path.rglob(pattern)]
    assert leftovers == []
    assert throwaway_databases(postgres_url) == []  # each run drops its own database
    assert lookalike_rows(lookalike) == [(1, "keep me")]  # and only ever its own


def edited_copy(project: Project, path: Path, file: str, old: str, new: str) -> Project:
    """A copy of `project` at `path` with `old` (which must be there) replaced in `file`."""
    copy = Project(shutil.copytree(project.path, path), project.python)
    source = (copy.path / file).read_text()
    assert old in source
    (copy.path / file).write_text(source.replace(old, new))
    return copy


def test_drift_test_fails_when_a_model_changes_without_migration(project, env, tmp_path):
    column = "    phone: Mapped[str | None] = mapped_column(String(20))\n"
    copy = edited_copy(project, tmp_path / "drifted", "app/models/db_models.py",
                       column, column + "    notes: Mapped[str | None]\n")  # fmt: skip

    drifted = copy.pytest("tests/test_migrations.py", "-p", "no:randomly", env=env)

    assert drifted.returncode == 1, drifted.stdout[-3000:]
    assert "models and migrations disagree" in drifted.stdout
    assert "add_column" in drifted.stdout and "notes" in drifted.stdout


def test_round_trip_fails_when_a_downgrade_leaves_a_table(project, env, tmp_path):
    drop = '    op.drop_table("users")\n'
    migration = "migrations/versions/0001_initial_schema.py"
    copy = edited_copy(project, tmp_path / "leaky-downgrade", migration, drop, "")

    result = copy.pytest(
        "tests/test_migrations.py", "-p", "no:randomly", "-k", "up_down_and_up_again", env=env
    )

    assert result.returncode == 1, result.stdout[-3000:]
    assert "1 failed" in result.stdout
    assert "downgrade of 0001 leaves {'users'" in result.stdout


def test_mypy_finds_nothing(project):
    # Strict, with the pydantic plugin (the project's pyproject.toml), on app/ and tests/.
    result = project.run("mypy", "--no-incremental", "--cache-dir=/dev/null")

    assert result.returncode == 0, result.stdout[-5000:]
    assert result.stdout.startswith("Success: no issues found")


def test_a_warning_fails_the_suite(project, env, tmp_path):
    copy = shutil.copytree(project.path, tmp_path / "warns")
    (copy / "tests/test_warns.py").write_text(
        "import warnings\n\n\n"
        "def test_warns():\n"
        "    warnings.warn('deprecated', DeprecationWarning)\n"
    )

    result = type(project)(copy, project.python).pytest("tests/test_warns.py", env=env)

    assert result.returncode == 1
    assert "DeprecationWarning: deprecated" in result.stdout


# The reaping is the PostgreSQL machinery's, the same files in both PostgreSQL strategies
# (test_postgres_strategy.py proves it); in-memory SQLite leaves nothing to reap.
@pytest.mark.parametrize("project", ["postgres_async"], indirect=True)
def test_killed_run_is_cleaned_up_by_the_next(project, env, postgres_url, lookalike):
    run = subprocess.Popen(
        [str(project.python), "-m", "pytest", "-p", "no:cacheprovider", "-n", "2"],
        cwd=project.path,
        env=clean_env(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: kill pytest and its workers
    )
    # Killed once both workers have made and marked their databases: in its first API tests,
    # which make no more. (A run killed during the 10-50 ms in which the server creates one
    # of its databases leaves it without the suite's mark, which no run may then drop: the
    # README says so; test_migrations.py creates some mid-run.)
    deadline = time.monotonic() + 60
    while is_postgres(project) and len(throwaway_databases(postgres_url, marked=True)) < 2:
        assert time.monotonic() < deadline, "the run never created its databases"
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    stale = throwaway_databases(postgres_url)
    assert bool(stale) == is_postgres(project)  # a killed run cannot drop its database

    assert_green(project.pytest(env=env))

    assert throwaway_databases(postgres_url) == []
    assert list(project.path.rglob("*.db")) == []
    assert lookalike_rows(lookalike) == [(1, "keep me")]  # named like the killed run's
