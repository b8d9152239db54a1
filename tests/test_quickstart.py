"""The generated README's quickstart, run as written, with compose's database and without
Docker on the embedded one; the development database itself; `alembic upgrade head` without
a database; pre-commit running the project's own ruff, offline; the README's login failing.

The `bash` blocks between `<!-- quickstart -->` and `<!-- /quickstart -->` in a baked
README (PostgreSQL strategy) become one bash script (`set -euo pipefail`), run in the
project. Only what this machine needs is substituted, and each substitution first checks
that its line is in the README, so a changed step fails the test instead of going untested:

- `uv sync` runs as written (uv from the template's .venv on PATH), into the project's own
  `.venv`, from uv's cache (the session's bakes already downloaded every locked package).
- With Docker's path, `docker compose up -d --wait` (no Docker here): a new database on the
  throwaway PostgreSQL, exported as DATABASE_URL, which the app's settings prefer to `.env`;
  the block between the `dev-db` markers is left out.
- Without Docker, `docker compose up -d --wait` is left out and the `dev-db` block runs as
  written (the embedded PostgreSQL, `.env` pointed at it); the `dev-db-stop` block, after the
  quickstart, runs at the end, and the server must then be stopped.
- The `uvicorn` line runs in the background on a free port, which replaces 8000 in the URLs;
  the script waits for /health before going on.
- `YOUR PASSWORD` in the login body: the password `create-user` was given on standard input.

The last command's output must be the user just created, as `GET /auth/me` returns it.
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.baking import Project, clean_env, installed_python
from tests.conftest import bake
from tests.serving import free_port, new_database

BIN = Path(sys.executable).parent  # the template's .venv: uv is there
START, END = "<!-- quickstart -->", "<!-- /quickstart -->"
DEV_DB = ("<!-- dev-db -->", "<!-- /dev-db -->")
DEV_DB_STOP = ("<!-- dev-db-stop -->", "<!-- /dev-db-stop -->")


@pytest.fixture(scope="module")
def project(cookies_session) -> Project:
    path = bake(cookies_session, project_slug="quickstart", db_strategy="postgres_testcontainer")
    return Project(path, installed_python(path))


@pytest.fixture
def database_url(postgres_url):
    """A new database on the throwaway server, as the app's URL (asyncpg); dropped after."""
    with new_database(postgres_url, "quickstart") as url:
        yield url


def region(text: str, start: str, end: str) -> str:
    assert start in text and end in text, (start, end)
    return text.split(start, 1)[1].split(end, 1)[0]


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def quickstart(readme: str, dev_db: bool) -> str:
    """The README's quickstart commands, in order, as one script; with or without the
    embedded development database's block."""
    steps = region(readme, START, END)
    if not dev_db:
        steps = steps.replace(region(steps, *DEV_DB), "")
    blocks = bash_blocks(steps)
    assert len(blocks) >= 4, blocks
    return "".join(blocks)


def substitute(script: str, pattern: str, replacement: str) -> str:
    script, count = re.subn(pattern, replacement, script, flags=re.MULTILINE)
    assert count > 0, f"the README's quickstart no longer matches {pattern!r}"
    return script


def run_day_one(project: Project, script: str) -> str:
    """Run the quickstart script as the README's reader would; its standard output."""
    password = secrets.token_urlsafe(16)
    port = free_port()
    script = substitute(
        script,
        r"^(uv run uvicorn app\.main:app .*)$",
        rf"\1 --port {port} >uvicorn.log 2>&1 &"
        "\ntrap 'kill $!' EXIT"
        f"\nfor _ in $(seq 150); do curl -sf 127.0.0.1:{port}/health >/dev/null && break;"
        " sleep 0.2; done",
    )
    script = substitute(script, r"127\.0\.0\.1:8000", f"127.0.0.1:{port}")
    script = substitute(script, r"YOUR PASSWORD", password)

    run = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=project.path,
        env=clean_env({"PATH": f"{BIN}:{os.environ['PATH']}", "UV_PYTHON_DOWNLOADS": "never"}),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: uvicorn and its reloader included
    )
    try:
        out, err = run.communicate(f"{password}\n", timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):  # all gone already
            os.killpg(run.pid, signal.SIGTERM)
    log = project.path / "uvicorn.log"

    assert run.returncode == 0, (
        f"{script}\n--- stdout\n{out}\n--- stderr\n{err}\n"
        f"--- uvicorn\n{log.read_text() if log.exists() else ''}"
    )
    return out


def assert_created_and_authenticated(script: str, out: str) -> None:
    email = re.search(r"^uv run python -m app\.cli create-user (\S+)$", script, re.MULTILINE)[1]
    assert f"Created therapist {email}" in out
    me = json.loads(out.strip().splitlines()[-1])
    assert me["email"] == email
    assert me["role"] == "therapist"
    assert me["is_active"] is True


def test_readme_quickstart_runs_up_to_an_authenticated_request(project, database_url):
    script = quickstart((project.path / "README.md").read_text(), dev_db=False)
    script = substitute(
        script, r"^docker compose up -d --wait$", f"export DATABASE_URL='{database_url}'"
    )

    out = run_day_one(project, script)

    assert_created_and_authenticated(script, out)


def devdb(project: Project, command: str) -> subprocess.CompletedProcess:
    return project.run("tools.devdb", command, timeout=120)


@pytest.fixture
def dev_db_cleanup(project):
    """Whatever a test leaves of the development database is stopped and deleted."""
    yield
    destroyed = devdb(project, "destroy")
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr


def test_readme_quickstart_without_docker_runs_on_the_embedded_database(project, dev_db_cleanup):
    readme = (project.path / "README.md").read_text()
    script = quickstart(readme, dev_db=True)
    script = substitute(script, r"^docker compose up -d --wait$", "")  # no Docker
    # When done: the stop block (after `echo`, as curl's answer ends without a newline).
    script += "echo\n" + "".join(bash_blocks(region(readme, *DEV_DB_STOP)))

    out = run_day_one(project, script)

    *day_one, stopped = out.strip().splitlines()
    assert_created_and_authenticated(script, "\n".join(day_one))
    assert stopped.startswith("Stopped; the data stays in ")
    env = (project.path / ".env").read_text()
    assert re.search(r"^DATABASE_URL=postgresql\+asyncpg://postgres@/app\?host=/", env, re.M)
    assert "SECRET_KEY=" in env  # the rest of .env stays
    assert devdb(project, "status").returncode == 3  # the stop block stopped it


# Run in the project: what the development database's server listens on, and a row that
# must outlive a restart.
DEV_DB_PROBE = """
import asyncio, sys
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from app.config import get_settings

async def probe():
    engine = create_async_engine(get_settings().database_url)
    async with engine.begin() as connection:
        if sys.argv[1] == "write":
            await connection.execute(text("CREATE TABLE kept (note text)"))
            await connection.execute(text("INSERT INTO kept VALUES ('still here')"))
        listen = await connection.scalar(text("SHOW listen_addresses"))
        kept = await connection.scalar(text("SELECT note FROM kept"))
    await engine.dispose()
    print(repr(listen), kept)

asyncio.run(probe())
"""


def probe(project: Project, mode: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [project.python, "-c", DEV_DB_PROBE, mode],
        cwd=project.path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dev_db_keeps_its_data_opens_no_port_and_stops(project, dev_db_cleanup):
    started = devdb(project, "start")
    again = devdb(project, "start")  # already running: says so, changes nothing
    written = probe(project, "write")
    stopped = devdb(project, "stop")
    status_stopped = devdb(project, "status")
    restarted = devdb(project, "start")
    read = probe(project, "read")
    status_running = devdb(project, "status")

    assert started.returncode == 0, started.stdout + started.stderr
    assert "DATABASE_URL=postgresql+asyncpg://postgres@/app?host=/" in started.stdout
    assert "Already running" in again.stdout
    assert written.stdout.strip() == "'' still here", written.stdout + written.stderr
    assert stopped.returncode == 0 and status_stopped.returncode == 3
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert read.stdout.strip() == "'' still here", read.stdout + read.stderr  # no TCP at all
    assert status_running.returncode == 0


def alembic_upgrade(project: Project, database_url: str) -> subprocess.CompletedProcess:
    return project.run("alembic", "upgrade", "head", env={"DATABASE_URL": database_url})


def assert_short_error(result, host: str, port: int, database: str, password: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert len(output.splitlines()) <= 10, output
    assert "Traceback" not in output
    assert f"database '{database}' on {host}:{port}" in output
    assert password not in output


def test_alembic_without_a_server_says_which_one_in_one_line(project):
    port, password = free_port(), secrets.token_urlsafe(8)
    url = f"postgresql+asyncpg://postgres:{password}@127.0.0.1:{port}/app"

    result = alembic_upgrade(project, url)

    assert_short_error(result, "127.0.0.1", port, "app", password)


def test_alembic_without_the_database_says_which_one_in_one_line(project, postgres_url):
    server = urlsplit(postgres_url)
    password = secrets.token_urlsafe(8)
    netloc = f"{server.username}:{password}@{server.hostname}:{server.port}"
    url = urlunsplit(server._replace(scheme="postgresql+asyncpg", netloc=netloc, path="/nosuch"))

    result = alembic_upgrade(project, url)

    assert_short_error(result, server.hostname, server.port, "nosuch", password)
    assert 'database "nosuch" does not exist' in result.stderr


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ('{"detail":"Incorrect email or password"}\n401', "HTTP 401: Incorrect email or password"),
        ('{"detail":"Too many failed logins"}\n429', "HTTP 429: Too many failed logins"),
        ("\n000", "HTTP 000: no answer from the server"),  # curl without a server
    ],
)
def test_readme_login_says_why_it_failed(project, answer, message):
    """The README's login reads curl's body and status (`-w '\\n%{http_code}'`); a failed
    login is one line with the status and the API's `detail`, not a traceback."""
    script = quickstart((project.path / "README.md").read_text(), dev_db=False)
    login = re.search(r"-w '\\n%\{http_code\}' \\\n  \| python3 -c '([^']+)'", script)
    assert login, "the README's login no longer pipes curl's body and status to python3 -c"

    result = subprocess.run(
        [str(project.python), "-c", login.group(1)], input=answer, capture_output=True, text=True
    )

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"login failed: {message}\n"


def test_pre_commit_runs_the_projects_own_ruff_offline(project, tmp_path):
    """The hooks are local: they run .venv's ruff (uv.lock's), with nothing to download."""
    copy = shutil.copytree(project.path, tmp_path / "repo", ignore=shutil.ignore_patterns(".venv"))
    (copy / "app/untidy.py").write_text("import os,sys\nx=( 1 )\n")
    env = clean_env({
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "UV_PROJECT_ENVIRONMENT": str(project.python.parent.parent),
        "UV_OFFLINE": "1",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        # The mypy hook is listed and skipped: mypy runs once per strategy, in
        # test_generated_suites.py::test_mypy_finds_nothing.
        "SKIP": "mypy",
    })  # fmt: skip

    def run(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True)

    assert run("git", "init", "-q").returncode == 0
    assert run("git", "add", ".").returncode == 0
    hooks = run("uv", "run", "--no-sync", "pre-commit", "run", "--all-files")

    assert hooks.returncode == 1, hooks.stdout + hooks.stderr  # it fixed things
    assert "ruff check" in hooks.stdout and "ruff format" in hooks.stdout
    assert re.search(r"^mypy\.+Skipped$", hooks.stdout, re.MULTILINE)
    assert (copy / "app/untidy.py").read_text() == "x = 1\n"  # fixed by .venv's ruff
    assert run("uv", "run", "--no-sync", "pre-commit", "run", "--all-files").returncode == 0
    assert not list((tmp_path / "pre-commit-home").glob("repo*"))  # nothing was fetched
