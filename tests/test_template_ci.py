"""The template's own workflow (.github/workflows/template-ci.yml at the repository root).

It runs `bash .ci/run` on GitHub's runners: Linux on every Python from 3.11 to 3.15, macOS
for the SQLite strategies, and an image job that builds and runs the generated Dockerfile.
It validates offline and passes zizmor like the generated workflows. Where Docker runs
(GitHub's Linux runners), the PostgreSQL strategy's suite starts its own PostgreSQL with
testcontainers, as it does in a baked project's CI.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.baking import TEMPLATE, Project, clean_env, installed_python
from tests.conftest import bake
from tests.test_generated_suites import assert_green
from tests.test_workflows import COMMIT, USES, zizmor

WORKFLOW = TEMPLATE / ".github" / "workflows" / "template-ci.yml"
STRATEGIES = TEMPLATE / "{{cookiecutter.project_slug}}" / "_strategies"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ("vendor.github-workflows", WORKFLOW),
        ("vendor.dependabot", WORKFLOW.parent.parent / "dependabot.yml"),
    ],
)
def test_template_workflow_matches_its_schema(schema, path):
    check = subprocess.run(
        [Path(sys.executable).with_name("check-jsonschema"), "--builtin-schema", schema, path],
        capture_output=True,
        text=True,
    )

    assert check.returncode == 0, check.stdout + check.stderr


def test_template_workflow_passes_zizmor():
    done = zizmor(WORKFLOW.parent.parent)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "template-ci.yml" in done.stdout + done.stderr  # really audited


def test_every_action_is_pinned_to_a_commit():
    actions = USES.findall(WORKFLOW.read_text())

    assert actions
    assert [action for action in actions if not COMMIT.search(action)] == []


def test_linux_runs_everything_on_every_python(workflow):
    linux = workflow["jobs"]["linux"]
    run = next(step for step in linux["steps"] if "run" in step)

    assert linux["runs-on"].startswith("ubuntu-")
    assert linux["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13", "3.14", "3.15"]
    assert run["run"] == 'bash .ci/run -m "not image"'  # every test but the image job's
    assert run["env"]["PYTHON"] == "${{ steps.python.outputs.python-path }}"


def test_image_job_builds_and_runs_the_production_image(workflow):
    image = workflow["jobs"]["image"]
    run = next(step for step in image["steps"] if "bash .ci/run" in step.get("run", ""))
    marked = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "image", "tests"],
        cwd=TEMPLATE,
        capture_output=True,
        text=True,
        # As on the workflow's runner, where Docker runs and nothing is deselected.
        env={k: v for k, v in os.environ.items() if k != "DESELECT_DOCKER"},
    )

    assert image["runs-on"].startswith("ubuntu-")  # Docker runs there
    assert run["run"] == "bash .ci/run -m image"
    assert "tests/test_image.py::test_image_builds_and_serves_on_compose_database" in (
        marked.stdout
    )


def test_macos_runs_the_sqlite_strategies(workflow):
    macos = workflow["jobs"]["macos"]
    run = next(step for step in macos["steps"] if "bash .ci/run" in step.get("run", ""))
    sqlite = sorted(
        path.parent.name
        for path in STRATEGIES.glob("*/uv.lock")
        if 'name = "aiosqlite"' in path.read_text()
    )

    assert macos["runs-on"].startswith("macos-")
    assert len(sqlite) >= 2
    assert run["run"] == f'bash .ci/run -k "{" or ".join(sqlite)}"'
    assert run["env"]["PYTHON"] == "${{ steps.python.outputs.python-path }}"


@pytest.mark.docker  # .ci/run deselects it, saying so, where no Docker engine answers
def test_postgres_strategy_starts_its_own_container_where_docker_runs(cookies_session):
    path = bake(cookies_session, db_strategy="postgres_testcontainer")
    project = Project(path, installed_python(path))

    # No TEST_DATABASE_URL (clean_env drops it): the suite starts its own container, as
    # each shard of the generated GitHub workflow does.
    result = project.pytest("--splits=2", "--group=1", env=clean_env())

    assert_green(result, minimum=20)
