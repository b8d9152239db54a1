"""The generated production image: Dockerfile, .dockerignore, its command, compose's `app`.

What runs without a container engine runs here: hadolint on every Python version's
Dockerfile, the build context against what the Dockerfile copies, and the image's exact
command (`CMD`) and `HEALTHCHECK` outside a container, with the virtualenv first on PATH as
the image has it: against a new database on the throwaway PostgreSQL (it migrates, then
serves) and against none (it fails before serving). The image itself is built and run, on
compose's PostgreSQL and Redis, by the test marked `image`: the template workflow's image
job runs it, where Docker runs (`.ci/run` deselects `docker` tests elsewhere).
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.baking import clean_env, installed_python
from tests.conftest import bake
from tests.serving import free_port, new_database, stop
from tests.test_bake import PYTHONS

HADOLINT = Path(sys.executable).with_name("hadolint")
STARTUP_SECONDS = 30


def instruction(dockerfile: str, name: str) -> str:
    """The arguments of the Dockerfile's one `name` instruction, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    (line,) = re.findall(rf"^{name} (.*)$", joined, re.MULTILINE)
    return line


def image_command(project: Path) -> list[str]:
    return json.loads(instruction((project / "Dockerfile").read_text(), "CMD"))


def healthcheck_command(project: Path) -> list[str]:
    healthcheck = instruction((project / "Dockerfile").read_text(), "HEALTHCHECK")
    return json.loads(healthcheck.split(" CMD ", 1)[1])


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("python", PYTHONS)
def test_dockerfile_lints_clean_and_runs_the_chosen_python(cookies_session, python):
    project = bake(
        cookies_session, project_slug=f"lint-py{python.replace('.', '')}", python_version=python
    )
    dockerfile = (project / "Dockerfile").read_text()

    done = subprocess.run(
        [HADOLINT, "--no-color", "Dockerfile"], cwd=project, capture_output=True, text=True
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""  # not even an info-level finding
    assert re.findall(r"^FROM python:(\S+)", dockerfile, re.MULTILINE) == [f"{python}-slim"] * 2
    assert "uv sync --locked --no-dev --no-install-project" in dockerfile
    assert re.search(r"^USER [1-9]\d*:[1-9]\d*$", dockerfile, re.MULTILINE)  # never root


def test_build_context_holds_what_the_dockerfile_copies_and_no_secrets(cookies_session):
    project = bake(cookies_session, project_slug="context")
    dockerfile = (project / "Dockerfile").read_text()
    admitted = [
        line[1:].rstrip("/")
        for line in (project / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    copied = re.findall(r"^COPY (?!--from)(\S+)", dockerfile, re.MULTILINE)
    mounted = re.findall(r"--mount=type=bind,source=([^,\s]+)", dockerfile)

    assert "*" in (project / ".dockerignore").read_text().splitlines()  # an allowlist
    assert sorted(copied + mounted) == sorted(admitted)
    assert ".env" not in admitted
    for path in admitted:
        if path != "uv.lock":  # written by `uv lock`, with the dependency manifest
            assert (project / path).exists(), path
    assert os.access(project / "scripts/start.sh", os.X_OK)


@pytest.fixture(scope="module")
def served_project(cookies_session) -> tuple[Path, Path]:
    """A bake and its virtualenv's bin folder (the image puts its venv first on PATH)."""
    project = bake(cookies_session, project_slug="image-command", db_strategy="postgres_async")
    return project, installed_python(project).parent


def image_env(bin_dir: Path, database_url: str, port: int) -> dict[str, str]:
    return clean_env(
        {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "ENVIRONMENT": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
            "PORT": str(port),
        }
    )


@contextlib.contextmanager
def running(command: list[str], project: Path, env: dict[str, str], log: Path):
    with open(log, "w") as output:
        process = subprocess.Popen(
            command, cwd=project, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        stop(process)


def test_image_command_migrates_then_serves(served_project, postgres_url, tmp_path):
    project, bin_dir = served_project
    port = free_port()
    with new_database(postgres_url, "image") as database_url:
        env = image_env(bin_dir, database_url, port)
        with running(image_command(project), project, env, tmp_path / "log") as server:
            deadline = time.monotonic() + STARTUP_SECONDS
            while get_or_none(f"http://127.0.0.1:{port}/health/ready") != 200:
                assert server.poll() is None, (tmp_path / "log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "log").read_text()
                time.sleep(0.2)
            healthy = subprocess.run(healthcheck_command(project), env=env, timeout=10)
            server_url = database_url.replace("postgresql+asyncpg", "postgresql")
            with psycopg.connect(server_url) as connection:
                tables = {
                    name
                    for (name,) in connection.execute(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    )
                }
        unhealthy = subprocess.run(healthcheck_command(project), env=env, capture_output=True)

    assert healthy.returncode == 0
    assert {"alembic_version", "users", "patients", "therapy_sessions"} <= tables
    assert unhealthy.returncode != 0  # the server is gone


def get_or_none(url: str) -> int | None:
    try:
        return get(url)
    except OSError:
        return None


def test_image_command_fails_loudly_without_a_database(served_project, tmp_path):
    project, bin_dir = served_project
    port = free_port()
    nowhere = f"postgresql+asyncpg://postgres:postgres@127.0.0.1:{free_port()}/app"
    env = image_env(bin_dir, nowhere, port)

    done = subprocess.run(
        image_command(project), cwd=project, env=env, capture_output=True, text=True, timeout=60
    )

    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "cannot connect to database 'app' on 127.0.0.1" in output
    assert "Traceback" not in output
    assert "Uvicorn running" not in output and "Started server" not in output


def test_compose_app_service_runs_the_image_on_compose_services(cookies_session):
    project = bake(cookies_session, project_slug="compose-app")
    services = yaml.safe_load((project / "compose.yaml").read_text())["services"]
    app = services["app"]

    assert app["profiles"] == ["app"]  # `docker compose up` alone still starts only db, redis
    assert app["build"] == "."
    assert app["environment"]["DATABASE_URL"].endswith("@db:5432/app")
    assert app["environment"]["RATE_LIMIT_STORAGE_URL"] == "redis://redis:6379/0"
    assert app["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert app["ports"] == ["127.0.0.1:8000:8000"]


@pytest.mark.docker
@pytest.mark.image
def test_image_builds_and_serves_on_compose_database(cookies_session, tmp_path):
    assert shutil.which("docker"), "no docker CLI"
    project = bake(cookies_session, project_slug="image", db_strategy="postgres_async")
    port = free_port()
    # The runner may have its own PostgreSQL or Redis on 5432 and 6379: the app reaches
    # compose's on compose's network, and only the app is published, on a free port.
    override = tmp_path / "compose.override.yaml"
    override.write_text(
        "services:\n"
        "  db:\n    ports: !reset []\n"
        "  redis:\n    ports: !reset []\n"
        f'  app:\n    ports: !override ["127.0.0.1:{port}:8000"]\n'
    )
    compose = ["docker", "compose", "-p", f"image-{uuid.uuid4().hex[:8]}", "-f",
               "compose.yaml", "-f", str(override), "--profile", "app"]  # fmt: skip

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*compose, *args], cwd=project, input=stdin, capture_output=True, text=True,
            timeout=900,
        )  # fmt: skip

    up = run("up", "--detach", "--wait", "--build")
    try:
        assert up.returncode == 0, up.stdout + up.stderr + run("logs").stdout
        password = secrets.token_urlsafe(16)
        created = run(
            "exec", "-T", "app", "python", "-m", "app.cli", "create-user", "ops@example.com",
            stdin=f"{password}\n",
        )  # fmt: skip
        uid = run("exec", "-T", "app", "id", "-u")
        dev_tools = run("exec", "-T", "app", "python", "-c", "import pytest")
        login = urllib.request.Request(
            f"http://127.0.0.1:{port}/auth/login",
            data=json.dumps({"email": "ops@example.com", "password": password}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(login, timeout=10) as response:
            token = json.load(response)["access_token"]
        me = urllib.request.Request(
            f"http://127.0.0.1:{port}/auth/me", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(me, timeout=10) as response:
            user = json.load(response)
        ready = get(f"http://127.0.0.1:{port}/health/ready")
    finally:
        logs = run("logs").stdout
        run("down", "--volumes", "--remove-orphans")

    assert created.returncode == 0, created.stdout + created.stderr  # the tables exist
    assert uid.stdout.strip() not in ("", "0"), uid.stdout + uid.stderr
    assert dev_tools.returncode != 0  # runtime dependencies only
    assert user["email"] == "ops@example.com"
    assert ready == 200
    assert "Traceback" not in logs, logs
