"""A baked project switches strategy the way its README says (`cruft link`, then `cruft
update --variables-to-update`), and ends equal to a fresh bake of the new strategy except for
the team's own code and tests (and `.env`, `.cruft.json`): nothing left in temporary folders,
no next steps printed, and its suite, the team's own test included, passes.

The commands are taken from the generated README's `cruft-link` and `switch-strategy`
blocks, so the docs and this test cannot drift apart: `<template>` becomes a git copy of this
checkout, the target strategy is set, and the block's last line (install and run) is done with
the cached virtualenv instead.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from tests.baking import Project, installed_python
from tests.test_cruft import GIT_ENV, commit_all, run, template_repo
from tests.test_generated_suites import assert_green

BIN = Path(sys.executable).parent
NOT_COMPARED = {".git", ".env", ".cruft.json"}

OWN_TEST = '''"""A team's own test."""

from tests.factories import PatientFactory


async def test_team_patient_is_listed(client, therapist_user, auth_headers):
    await PatientFactory.create_async(therapist_id=therapist_user.id, name="Team Patient")

    response = await client.get("/patients", headers=auth_headers)

    assert [row["name"] for row in response.json()] == ["Team Patient"]
'''
OWN_CODE = '"""A module of the team\'s own."""\n\nGREETING = "hello"\n'


def block(readme: str, marker: str) -> list[str]:
    found = re.search(rf"<!-- {marker} -->\n```bash\n(.*?)```", readme, re.DOTALL)
    return found.group(1).strip().splitlines()


def switch_script(project: Path, template: Path, strategy: str) -> str:
    readme = (project / "README.md").read_text()
    *switch, install_and_run = block(readme, "switch-strategy")
    assert install_and_run == "uv sync && uv run pytest"
    script = "\n".join(["set -euo pipefail", *block(readme, "cruft-link"), *switch])
    script = script.replace("<template>", str(template))
    return script.replace('{"db_strategy": "postgres_async"}', f'{{"db_strategy": "{strategy}"}}')


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and not NOT_COMPARED & set(path.relative_to(folder).parts)
    }


def sync(source: str) -> str:
    """What the README asks of the team's own tests when moving to postgres_testcontainer."""
    return (
        source.replace("async def", "def")
        .replace("await ", "")
        .replace(".create_async(", ".create_sync(")
    )


@pytest.mark.parametrize(
    ("start", "target"),
    [("all_async_sqlite", "postgres_async"), ("postgres_async", "postgres_testcontainer")],
)
def test_switching_strategy_gives_a_fresh_bake_plus_the_teams_work(
    tmp_path, postgres_url, start, target
):
    template = template_repo(tmp_path)
    answers = {"db_strategy": start, "ci": "github", "project_slug": "team-service"}
    project = Path(
        cookiecutter(
            str(template), no_input=True, extra_context=answers, output_dir=tmp_path / "work"
        )
    )
    run("git", "init", "-q", "-b", "main", cwd=project)
    commit_all(project, "baked")
    # The team's work: a test, a module, and a change to a file the switch changes too.
    (project / "tests/routers/test_team.py").write_text(OWN_TEST)
    (project / "app/greeting.py").write_text(OWN_CODE)
    env_example = project / ".env.example"
    env_example.write_text(env_example.read_text().replace("MINUTES=30", "MINUTES=15"))
    commit_all(project, "the team's work")
    scratch = tmp_path / "scratch"  # TMPDIR: cruft's temporary folders land here
    scratch.mkdir()

    done = subprocess.run(
        ["bash", "-c", switch_script(project, template, target)],
        cwd=project,
        env=os.environ | GIT_ENV | {"TMPDIR": str(scratch), "PATH": f"{BIN}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "conflict" not in done.stderr and "Next steps" not in done.stdout, done.stdout
    assert list(scratch.iterdir()) == []
    fresh = Path(
        cookiecutter(
            str(template),
            no_input=True,
            extra_context=answers | {"db_strategy": target},
            output_dir=tmp_path / "fresh",
        )
    )
    expected = files(fresh)
    expected["tests/routers/test_team.py"] = OWN_TEST.encode()
    expected["app/greeting.py"] = OWN_CODE.encode()
    expected[".env.example"] = expected[".env.example"].replace(b"MINUTES=30", b"MINUTES=15")
    switched = files(project)
    assert sorted(switched) == sorted(expected)
    assert [name for name in expected if switched[name] != expected[name]] == []
    cruft_answers = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    assert cruft_answers["db_strategy"] == target

    if target == "postgres_testcontainer":
        (project / "tests/routers/test_team.py").write_text(sync(OWN_TEST))
    result = Project(project, installed_python(project)).pytest(
        "-p", "randomly", "-v", env={"TEST_DATABASE_URL": postgres_url}
    )
    assert_green(result)
    assert "tests/routers/test_team.py::test_team_patient_is_listed PASSED" in result.stdout
