"""A baked project moves between the async strategies the way its README says, and its
tests, the team's own included, pass on the new strategy unchanged.

The commands are taken from the generated README's `switch-strategy` block, so the docs
and this test cannot drift apart: `<template>` becomes this checkout, the target strategy
is set, and its last line (install and run) is done with the cached virtualenv instead.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.baking import TEMPLATE, Project, clean_env, installed_python
from tests.conftest import bake
from tests.test_generated_suites import assert_green

BIN = Path(sys.executable).parent

BLOCK = re.compile(r"<!-- switch-strategy -->\n```bash\n(.*?)```", re.DOTALL)
OWN_TEST = '''"""A team's own test, written for the strategy the project was baked with."""

from tests.routers.conftest import add_row, make_patient


async def test_team_patient_is_listed(client, test_db, therapist_user, auth_headers):
    await add_row(test_db, make_patient(therapist_user.id, name="Team Patient"))

    response = await client.get("/patients", headers=auth_headers)

    assert [row["name"] for row in response.json()] == ["Team Patient"]
'''


def switch_commands(project: Path, strategy: str) -> str:
    block = BLOCK.search((project / "README.md").read_text()).group(1)
    *commands, install_and_run = block.strip().splitlines()
    assert install_and_run == "pip install -r requirements-dev.txt && pytest"
    script = "\n".join(commands).replace("<template>", str(TEMPLATE))
    return script.replace('"db_strategy": "postgres_async"', f'"db_strategy": "{strategy}"')


def take_postgres_image(project: Path, rebaked_pyproject: str) -> None:
    """The README's one manual step: the `postgres_image` line, taken or dropped."""
    line = re.compile(r"^(# Image of the throwaway server.*\n)?postgres_image = .*\n", re.M)
    wanted = line.search(rebaked_pyproject)
    pyproject = project / "pyproject.toml"
    current = line.sub("", pyproject.read_text())
    if wanted:  # at the end of [tool.pytest.ini_options]
        end = current.index("\n\n[", current.index("[tool.pytest.ini_options]")) + 1
        current = current[:end] + wanted.group() + current[end:]
    pyproject.write_text(current)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


@pytest.mark.parametrize(
    ("start", "target"),
    [("all_async_sqlite", "postgres_async"), ("postgres_async", "shared_session")],
)
def test_switching_strategy_keeps_every_test(
    cookies_session, tmp_path, postgres_url, start, target
):
    baked = bake(
        cookies_session,
        db_strategy=start,
        ci="github",
        project_slug="from-" + start.replace("_", "-"),
    )
    project = shutil.copytree(baked, tmp_path / "project" / baked.name)
    (project / "tests/routers/test_team.py").write_text(OWN_TEST)
    tests_before = snapshot(project / "tests/routers")
    scratch = tmp_path / "scratch"  # the README's `mktemp -d` lands here
    scratch.mkdir()

    done = subprocess.run(
        ["bash", "-c", switch_commands(project, target)],
        cwd=project,
        env=clean_env({"TMPDIR": str(scratch), "PATH": f"{BIN}:/usr/bin:/bin"}),
        capture_output=True,
        text=True,
    )
    assert "rror" not in done.stderr, done.stderr
    (rebaked,) = scratch.glob(f"*/{baked.name}")
    take_postgres_image(project, (rebaked / "pyproject.toml").read_text())

    result = Project(project, installed_python(project)).pytest(
        "-p", "randomly", "-v", env={"TEST_DATABASE_URL": postgres_url}
    )

    assert_green(result)
    assert "tests/routers/test_team.py::test_team_patient_is_listed PASSED" in result.stdout
    assert snapshot(project / "tests/routers") == tests_before  # no test changed
    assert f'"db_strategy": "{target}"' in (project / ".cookiecutter.json").read_text()
    strategy_files = ("requirements-dev.in", "requirements-dev.txt", ".test_durations")
    for name in ("tests/conftest.py", *strategy_files, ".github/workflows/ci.yml"):
        assert (project / name).read_bytes() == (rebaked / name).read_bytes(), name
    assert (project / "tests/postgres").is_dir() == target.startswith("postgres_")
