"""The PostgreSQL strategies on a real server: what goes wrong on the hundredth run.

Concurrent runs, the server's own data, no server at all (the embedded one starts), a
killed run's embedded server, two embedded runs side by side, the reaper's guards (only
marked databases of dead runs go), a server that cannot be reached, a malformed URL, and a
password that is never printed. (Killed runs' databases: see test_generated_suites.py.)
Whole suites run on both strategies; what only the shared machinery decides, on one.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg
import pytest

from tests.baking import CACHE, Project, clean_env, installed_python
from tests.conftest import LOOKALIKE, bake, lookalike_rows
from tests.test_generated_suites import assert_green, throwaway_databases

POSTGRES_STRATEGIES = ("postgres_testcontainer", "postgres_async")
# No Docker engine, and the embedded server's cached clusters in the template's .cache/
# rather than this user's own cache folder.
NO_DOCKER = {
    "DOCKER_HOST": "unix:///nonexistent/docker.sock",
    "XDG_CACHE_HOME": str(CACHE / "xdg"),
}


@pytest.fixture(scope="module", params=POSTGRES_STRATEGIES)
def pg_project(request, cookies_session) -> Project:
    path = bake(cookies_session, db_strategy=request.param)
    return Project(path, installed_python(path))


# The PostgreSQL machinery (tests/postgres/, tools/) is the same in both strategies (the next
# test proves it): what only it decides (servers, templates, reaping, errors) is tested on
# one of them; what a strategy's conftest takes part in (whole suites), on both.
MACHINERY = "postgres_async"
machinery_only = pytest.mark.parametrize("pg_project", [MACHINERY], indirect=True)


def test_both_strategies_share_the_postgres_machinery(cookies_session):
    def machinery(strategy: str) -> dict[str, bytes]:
        project = bake(cookies_session, db_strategy=strategy)
        return {
            str(path.relative_to(project)): path.read_bytes()
            for folder in ("tests/postgres", "tools")
            for path in sorted((project / folder).rglob("*.[ps][yq]*"))  # .py, .sql
        }

    shared = [machinery(strategy) for strategy in POSTGRES_STRATEGIES]

    assert "tests/postgres/plugin.py" in shared[0]
    assert shared[0] == shared[1]


@machinery_only
def test_concurrent_runs_on_one_server_do_not_collide(pg_project, postgres_url, lookalike):
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
    assert lookalike_rows(lookalike) == [(1, "keep me")]


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


@machinery_only
def test_server_data_is_left_exactly_as_it_was(pg_project, database_with_data):
    before = snapshot(database_with_data)

    result = pg_project.pytest("-n", "2", env={"TEST_DATABASE_URL": database_with_data})

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
        ours = (f"{tmpdir}/pytest-postgres-", f"{tmpdir}/embedded-postgres-build-")
        if "postgres" in cmdline and any(folder in cmdline for folder in ours):
            found.append(process)
    return found


@machinery_only
def test_no_url_and_no_docker_runs_on_the_embedded_server(pg_project, own_tmpdir):
    result = pg_project.pytest("-v", env=NO_DOCKER | {"TMPDIR": str(own_tmpdir)})

    assert_green(result)
    assert "PostgreSQL: embedded" in result.stdout
    assert embedded_servers(own_tmpdir) == []
    assert list(own_tmpdir.glob("pytest-postgres-*")) == []  # its folder is gone too


SERVER_USER = """
import sys
from pathlib import Path

import psutil

from tools.embedded_postgres import EmbeddedPostgres

with EmbeddedPostgres(Path(sys.argv[1])) as server:
    pid = int((server.data / "postmaster.pid").read_text().split()[0])
    print(psutil.Process(pid).username())
"""


@machinery_only
@pytest.mark.parametrize(
    "path", [os.environ["PATH"], "/nonexistent"], ids=["setpriv", "no-setpriv"]
)
def test_the_embedded_server_runs_as_nobody_under_root_with_or_without_setpriv(
    pg_project, own_tmpdir, path
):
    """As root, util-linux's setpriv starts it as `nobody` where there is one (Alpine has
    none); Python's own change of user where there is not. As anyone else, as them."""
    folder = own_tmpdir / "pytest-postgres-user"
    folder.mkdir()
    done = subprocess.run(
        [str(pg_project.python), "-c", SERVER_USER, str(folder)],
        cwd=pg_project.path, env=clean_env({"PATH": path}), capture_output=True, text=True,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-2000:]
    expected = "nobody" if os.geteuid() == 0 else psutil.Process().username()
    assert done.stdout.strip() == expected
    assert embedded_servers(own_tmpdir) == []


@machinery_only
def test_a_tmpdir_that_others_may_not_enter_stops_a_root_run_with_one_line(pg_project):
    """As root the embedded server runs as `nobody`, who cannot reach a folder in a TMPDIR of
    mode 0700: the run stops at once and says so. As anyone else, it runs there."""
    private = Path(tempfile.mkdtemp(prefix="fdt-private-"))  # mode 0700
    try:
        result = pg_project.pytest(
            "tests/routers/test_sessions.py", env=NO_DOCKER | {"TMPDIR": str(private)}
        )
        if os.geteuid() == 0:
            assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout[-2000:]
            errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
            assert len(errors) == 1 and f"who may not enter {private}: use a TMPDIR" in errors[0]
            assert "Traceback" not in result.stdout + result.stderr
        else:
            assert_green(result, minimum=3)
        assert list(private.iterdir()) == []  # no server folder, no build left in it
    finally:
        shutil.rmtree(private)


@machinery_only
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


@machinery_only
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


# A stand-in for a run that holds its database: the generated machinery itself, used as a
# run uses it (lock, create, mark), then waiting on its standard input.
HOLD_A_RUN_DATABASE = """
import sys
from sqlalchemy import make_url
from tests.postgres import databases
server = make_url(sys.argv[1])
with databases.admin_connection(server) as admin, databases.run_database(admin, server) as url:
    print(url.database, flush=True)
    sys.stdin.readline()
"""


def hold_a_run_database(project: Project, postgres_url: str) -> tuple[subprocess.Popen, str]:
    holder = subprocess.Popen(
        [str(project.python), "-c", HOLD_A_RUN_DATABASE, postgres_url],
        cwd=project.path,
        env=clean_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return holder, holder.stdout.readline().strip()


def all_test_databases(postgres_url: str) -> set[str]:
    with psycopg.connect(postgres_url) as connection:
        rows = connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'pytest\\_%' "
            "AND datname NOT LIKE 'pytest\\_template\\_%'"  # the migrated templates stay
        ).fetchall()
    return {name for (name,) in rows}


@machinery_only
def test_a_run_drops_its_own_database_and_dead_runs_marked_ones_only(
    pg_project, postgres_url, lookalike
):
    live, live_name = hold_a_run_database(pg_project, postgres_url)  # idle: no connection
    dead, dead_name = hold_a_run_database(pg_project, postgres_url)
    dead.kill()  # a killed run: its database stays, its lock goes
    dead.communicate()
    try:
        assert {live_name, dead_name, LOOKALIKE} <= all_test_databases(postgres_url)

        result = pg_project.pytest(
            "tests/test_migrations.py", env={"TEST_DATABASE_URL": postgres_url}
        )

        assert_green(result, minimum=2)
        remaining = all_test_databases(postgres_url)
        assert dead_name not in remaining  # reaped: marked, and its run is gone
        assert live_name in remaining  # its run holds the lock (and the reaper checks it)
        assert lookalike_rows(lookalike) == [(1, "keep me")]  # not marked: never ours
        assert remaining == {live_name, LOOKALIKE}  # the run dropped its own at the end
    finally:
        live.communicate("\n", timeout=30)
    assert live_name not in all_test_databases(postgres_url)


GATE = """
import os
import time
from pathlib import Path

from sqlalchemy import text


def test_waits_while_another_run_starts(migrated_engine):
    Path(os.environ["GATE"], "in-tests").touch()
    deadline = time.monotonic() + 120
    while not Path(os.environ["GATE"], "go-on").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with migrated_engine.connect() as connection:  # this run's server is still there
        assert connection.execute(text("SELECT 1")).scalar() == 1
"""


@machinery_only
def test_two_embedded_runs_in_one_tmpdir_both_pass(pg_project, own_tmpdir, tmp_path):
    first = Project(shutil.copytree(pg_project.path, tmp_path / "first"), pg_project.python)
    (first.path / "tests/test_gate.py").write_text(GATE)
    gate = tmp_path / "gate"
    gate.mkdir()
    env = NO_DOCKER | {"TMPDIR": str(own_tmpdir)}
    run = subprocess.Popen(
        [str(first.python), "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly",
         "tests/test_gate.py", "tests/test_migrations.py"],
        cwd=first.path,
        env=clean_env(env | {"GATE": str(gate)}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (gate / "in-tests").exists():
            assert run.poll() is None and time.monotonic() < deadline, "no first run"
            time.sleep(0.05)

        second = pg_project.pytest("tests/test_migrations.py", env=env)

        assert_green(second, minimum=2)
    finally:
        (gate / "go-on").touch()
        output = run.communicate(timeout=120)[0]
    assert run.returncode == 0, output[-4000:]  # its server survived the second run's reaper
    assert embedded_servers(own_tmpdir) == []
    assert list(own_tmpdir.glob("pytest-postgres-*")) == []


@machinery_only
@pytest.mark.parametrize(
    "url",
    ["nonsense", "postgresql://tester:s3cret-password@127.0.0.1:notaport/team_db"],
    ids=["nonsense", "bad-port"],
)
def test_a_malformed_url_stops_the_run_with_one_line(pg_project, url):
    result = pg_project.pytest(env={"TEST_DATABASE_URL": url})

    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines == [
        "ERROR: TEST_DATABASE_URL is not a PostgreSQL URL: "
        "expected postgresql://user:password@host:5432/database"
    ]
    assert "s3cret-password" not in output


SHOWS_THE_URL = """
def test_fails_showing_the_url(database_url, migrated_engine):
    url = migrated_engine.url
    assert url is None
"""


@machinery_only
def test_the_password_in_the_url_is_never_printed(pg_project, postgres_url, tmp_path):
    """Not in the header, a failing test's locals, or its assertion (the server trusts us,
    so any password connects)."""
    password = "s3cret-password"
    server = urlsplit(postgres_url)
    with_password = urlunsplit(
        server._replace(netloc=f"{server.username}:{password}@{server.hostname}:{server.port}")
    )
    copy = Project(shutil.copytree(pg_project.path, tmp_path / "copy"), pg_project.python)
    (copy.path / "tests/test_shows_the_url.py").write_text(SHOWS_THE_URL)

    result = copy.pytest(
        "-v", "-l", "--tb=long", "tests/test_shows_the_url.py", "tests/test_migrations.py",
        env={"TEST_DATABASE_URL": with_password},
    )  # fmt: skip

    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, output[-3000:]
    assert "1 failed" in output and "PostgreSQL: TEST_DATABASE_URL" in output
    assert f"{server.username}:***@" in output  # the URL is shown, its password hidden
    assert password not in output


REAP = """
import sys
from pathlib import Path
from tools.embedded_postgres import reap_orphans
print(sorted(p.name for p in reap_orphans(Path(sys.argv[1]), "pytest-postgres-")))
"""

HOLD_THE_LOCK = """
import fcntl, sys, time
record = open(sys.argv[1])
fcntl.flock(record, fcntl.LOCK_EX)  # as claim() holds it, for as long as its owner lives
print("held", flush=True)
time.sleep(60)
"""


@machinery_only
def test_the_embedded_reaper_removes_only_its_orphans_and_signals_only_their_servers(
    pg_project, tmp_path
):
    record = f"embedded-postgres-owner/2 {os.getpid()}\n"  # as claim() writes it

    def folder(name: str, owner: str | None = record) -> Path:
        path = tmp_path / f"pytest-postgres-{name}"
        (path / "data").mkdir(parents=True)
        if owner is not None:
            (path / "owner").write_text(owner)  # its lock held by nobody: its owner ended
        return path

    def stand_in(path: Path, *args: str, started: float | None = None) -> subprocess.Popen:
        """A process named in `path`'s postmaster.pid, as a server of that folder would be."""
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *args])
        start = psutil.Process(process.pid).create_time() if started is None else started
        (path / "data/postmaster.pid").write_text(f"{process.pid}\n{path / 'data'}\n{start}\n")
        return process

    orphan = folder("orphan")
    not_its_server = stand_in(orphan)  # its pid, but not this folder's command line
    reused = folder("reused")
    reused_pid = stand_in(reused, str(reused / "data"), started=1.0)  # pid reused since
    live = folder("live")
    owner = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(live / "owner")],
        stdout=subprocess.PIPE,
        text=True,
    )
    untouched = [
        live,
        folder("no-record", owner=None),
        folder("someone-elses-record", owner=f"someone-else {os.getpid()}\n"),
        folder("older-kind-of-record", owner="embedded-postgres-owner/1 1 1.0\n"),
    ]
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere/owner").write_text(record)
    (tmp_path / "pytest-postgres-link").symlink_to(tmp_path / "elsewhere")
    try:
        assert owner.stdout is not None and owner.stdout.readline() == "held\n"
        done = subprocess.run(
            [str(pg_project.python), "-c", REAP, str(tmp_path)],
            cwd=pg_project.path, env=clean_env(), capture_output=True, text=True, check=True,
        )  # fmt: skip

        assert done.stdout.strip() == "['pytest-postgres-orphan', 'pytest-postgres-reused']"
        assert not orphan.exists() and not reused.exists()
        assert not_its_server.poll() is None and reused_pid.poll() is None  # never signalled
        assert all((path / "data").is_dir() for path in untouched)
        assert (tmp_path / "elsewhere/owner").exists()
    finally:
        not_its_server.kill()
        reused_pid.kill()
        owner.kill()
        not_its_server.wait()
        reused_pid.wait()
        owner.communicate()  # its pipe closed


# The cached schema: each server holds the migrated template of each set of migrations
# (pytest_template_<digest>), which every run clones; the embedded server's cached cluster
# holds it already.
STARTS_CLEAN = """
import os

from sqlalchemy import text


def test_starts_from_the_template_then_writes_to_it(migrated_engine):
    with migrated_engine.begin() as connection:
        leaked = connection.execute(text("SELECT to_regclass('written_by_a_run')")).scalar()
        marker = connection.execute(
            text("SELECT count(*) FROM pg_proc WHERE proname = 'schema_marker'")
        ).scalar()
        connection.execute(text("CREATE TABLE written_by_a_run (id int)"))
    assert leaked is None  # no run's writes reach the template
    assert marker == int(os.environ["MARKERS"])
"""

MARKER_MIGRATION = """
import os
import time

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if os.environ.get("SLOW_MIGRATION"):
        time.sleep(60)
    op.execute("CREATE FUNCTION schema_marker() RETURNS int LANGUAGE sql AS 'SELECT 1'")


def downgrade() -> None:
    op.execute("DROP FUNCTION schema_marker()")
"""


def templates(postgres_url: str) -> dict[str, str]:
    """The templates on the server, and their marks."""
    with psycopg.connect(postgres_url) as connection:
        rows = connection.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname LIKE 'pytest\\_template\\_%'"
        ).fetchall()
    return dict(rows)


def python_says(project: Project, code: str) -> str:
    done = subprocess.run(
        [str(project.python), "-c", code], cwd=project.path, env=clean_env(),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def digest(project: Project) -> str:
    """The template's key: the migrations' and the reset's content."""
    return python_says(
        project, "from tests.postgres.plugin import template_digest; print(template_digest())"
    )


@pytest.fixture
def copy(pg_project, tmp_path) -> Project:
    copy = Project(shutil.copytree(pg_project.path, tmp_path / "copy"), pg_project.python)
    (copy.path / "tests/test_starts_clean.py").write_text(STARTS_CLEAN)
    return copy


@machinery_only
def test_the_template_is_built_once_never_written_and_rebuilt_for_a_new_migration(
    copy, postgres_url
):
    env = {"TEST_DATABASE_URL": postgres_url, "MARKERS": "0"}
    for _ in range(2):  # the second run clones the first's template: not written by it
        assert_green(copy.pytest("tests/test_starts_clean.py", env=env), minimum=1)
    before = digest(copy)
    (copy.path / "migrations/versions/0002_marker.py").write_text(MARKER_MIGRATION)

    result = copy.pytest("tests/test_starts_clean.py", env=env | {"MARKERS": "1"})

    assert_green(result, minimum=1)
    after = digest(copy)
    assert after != before
    marks = templates(postgres_url)
    assert marks[f"pytest_template_{before}"] == marks[f"pytest_template_{after}"]
    assert "pytest template database" in marks[f"pytest_template_{after}"]  # marked as ours
    assert throwaway_databases(postgres_url) == []


@machinery_only
def test_a_template_build_killed_half_way_is_never_used_and_is_reaped(copy, postgres_url):
    own = f"{MARKER_MIGRATION}\n# {uuid.uuid4()}: migrations no other run has built\n"
    (copy.path / "migrations/versions/0002_marker.py").write_text(own)
    env = clean_env({"TEST_DATABASE_URL": postgres_url, "MARKERS": "1"})
    run = subprocess.Popen(
        [str(copy.python), "-m", "pytest", "-p", "no:cacheprovider", "tests/test_starts_clean.py"],
        cwd=copy.path,
        env=env | {"SLOW_MIGRATION": "1"},
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not throwaway_databases(postgres_url):  # the template being built, as a run's
        assert time.monotonic() < deadline and run.poll() is None, "no build started"
        time.sleep(0.1)
    time.sleep(0.5)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    name = f"pytest_template_{digest(copy)}"
    assert name not in templates(postgres_url)  # nothing half-built under the real name

    assert_green(copy.pytest("tests/test_starts_clean.py", env=env), minimum=1)
    assert name in templates(postgres_url)
    assert throwaway_databases(postgres_url) == []  # the killed build's database reaped


@machinery_only
def test_the_embedded_cluster_is_cached_per_server_version_and_migrations(
    copy, own_tmpdir, tmp_path
):
    env = NO_DOCKER | {"TMPDIR": str(own_tmpdir), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env |= {"MARKERS": "0"}
    assert_green(copy.pytest("tests/test_starts_clean.py", env=env), minimum=1)
    version = python_says(
        copy, "import importlib.metadata as m; print(m.version('embedded-postgres'))"
    )
    layout = python_says(copy, "from tools.embedded_postgres import CLUSTER_LAYOUT as c; print(c)")
    entry = tmp_path / f"cache/embedded-postgres/{version}-{layout}-migrations-{digest(copy)}"
    assert (entry / "data/PG_VERSION").is_file()
    (entry / "data/copied_from_the_cache").write_text("")  # runs copy it, never initdb
    (copy.path / "tests/test_copied.py").write_text(
        "from sqlalchemy import text\n\n\n"
        "def test_copied(migrated_engine):\n"
        "    with migrated_engine.connect() as connection:\n"
        "        files = connection.execute(text(\"SELECT pg_ls_dir('.')\")).scalars().all()\n"
        "    assert 'copied_from_the_cache' in files\n"
    )

    result = copy.pytest("tests/test_copied.py", "tests/test_starts_clean.py", env=env)

    assert_green(result, minimum=2)
    assert embedded_servers(own_tmpdir) == []
    assert sorted(p.name for p in own_tmpdir.iterdir()) == []  # runs' and builds' folders gone


@machinery_only
@pytest.mark.parametrize("args", [["--co", "-q"], ["tests/test_settings.py"]], ids=["co", "no-db"])
def test_a_run_that_uses_no_database_starts_no_server(pg_project, own_tmpdir, tmp_path, args):
    cache = tmp_path / "cache"
    env = NO_DOCKER | {"TMPDIR": str(own_tmpdir), "XDG_CACHE_HOME": str(cache)}

    result = pg_project.pytest(*args, env=env)

    assert result.returncode == 0, result.stdout[-3000:]
    assert "PostgreSQL:" not in result.stdout
    assert not cache.exists()  # no cluster was even built
    assert [path for path in own_tmpdir.iterdir() if "postgres" in path.name] == []


# A data migration that seeds a lookup table and a child of it, as services do (plans and
# their features); then tests that delete, change, truncate or add to the seeded rows, and
# tests that expect exactly the seeds, in random order and under -n 2.
SEEDING_MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    plans = op.create_table(
        "plans",
        sa.Column("id", sa.Integer, sa.Identity(always=True), primary_key=True),
        sa.Column("name", sa.String(20), nullable=False, unique=True),
        sa.Column("price", sa.Integer, nullable=False),
    )
    features = op.create_table(
        "plan_features",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id", ondelete="CASCADE")),
        sa.Column("feature", sa.String(20), nullable=False),
    )
    op.bulk_insert(plans, [{"name": "free", "price": 0}, {"name": "pro", "price": 10}])
    op.bulk_insert(features, [{"id": 1, "plan_id": 1, "feature": "api"},
                              {"id": 2, "plan_id": 2, "feature": "api"},
                              {"id": 3, "plan_id": 2, "feature": "support"}])


def downgrade() -> None:
    op.drop_table("plan_features")
    op.drop_table("plans")
"""

SEEDED_TESTS = """
import pytest
from sqlalchemy import text

SEEDS = [(1, "free", 0, "api"), (2, "pro", 10, "api"), (2, "pro", 10, "support")]
EVERY_ROW = text(
    "SELECT p.id, p.name, p.price, f.feature FROM plans p "
    "LEFT JOIN plan_features f ON f.plan_id = p.id ORDER BY p.id, f.feature"
)


async def rows(test_db):
    return [tuple(row) for row in await test_db.execute(EVERY_ROW)]


@pytest.mark.parametrize(
    "change",
    [
        "DELETE FROM plans",  # the features go by cascade
        "DELETE FROM plan_features WHERE feature = 'support'",
        "UPDATE plans SET price = price + 1, name = upper(name)",
        "INSERT INTO plans (name, price) VALUES ('team', 30)",
        "TRUNCATE plans CASCADE",
    ],
)
async def test_a_test_changes_the_seeds(test_db, change):
    assert await rows(test_db) == SEEDS
    await test_db.execute(text(change))
    await test_db.commit()
    assert await rows(test_db) != SEEDS


async def test_the_app_and_the_seeds(client, test_db, auth_headers):
    response = await client.post("/patients", json={"name": "Seeded"}, headers=auth_headers)
    assert response.status_code == 201
    await test_db.execute(text("DELETE FROM plan_features"))
    await test_db.commit()


@pytest.mark.parametrize("attempt", range(4))
async def test_the_seeds_are_there(test_db, attempt):
    assert await rows(test_db) == SEEDS
"""


@machinery_only
def test_rows_the_migrations_seed_are_there_at_every_test_start(copy, postgres_url):
    (copy.path / "migrations/versions/0002_plans.py").write_text(SEEDING_MIGRATION)
    (copy.path / "tests/routers/test_seeded.py").write_text(SEEDED_TESTS)
    env = {"TEST_DATABASE_URL": postgres_url}
    seeded = "tests/routers/test_seeded.py"

    in_file_order = copy.pytest(seeded, "-p", "no:randomly", env=env)  # changes, then checks
    assert_green(in_file_order, minimum=10)
    for seed in ("1", "2"):
        assert_green(copy.pytest(seeded, f"--randomly-seed={seed}", env=env), minimum=10)
    assert_green(copy.pytest(seeded, "-n", "2", env=env), minimum=10)

    # An application's own role, not a superuser: its reset checks foreign keys as it goes
    # (no replica mode), and must still put every seed back. Its own template (another
    # digest): a template built by another role is not the app role's to clone.
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'seeds_app'").fetchone():
            admin.execute("CREATE ROLE seeds_app LOGIN CREATEDB")
    migration = copy.path / "migrations/versions/0002_plans.py"
    migration.write_text(f"{SEEDING_MIGRATION}\n# built by seeds_app\n")
    server = urlsplit(postgres_url)
    app_role = urlunsplit(server._replace(netloc=f"seeds_app@{server.hostname}:{server.port}"))
    result = copy.pytest(seeded, "-p", "no:randomly", env={"TEST_DATABASE_URL": app_role})
    assert_green(result, minimum=10)
