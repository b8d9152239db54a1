"""The hooks: bad answers stop the bake cleanly, hostile answers stay data."""

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from tests.baking import TEMPLATE
from tests.conftest import bake
from tests.test_bake import ruff

HOOKS = TEMPLATE / "hooks"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("project_slug", "Has Spaces"),
        ("project_slug", "under_score"),
        ("project_slug", "-leading-dash"),
        ("project_slug", "double--dash"),
        ("project_slug", "9starts-with-digit"),
        ("project_slug", "Upper-Case"),
        ("author_email", "not-an-email"),
        ("author_email", "two@@example.com"),
        ("author_email", "spaces in@example.com"),
        ("project_name", " leading space"),
        ("project_name", "line\nbreak"),
        ("project_name", 'say "hi"'),  # would need escaping in app/main.py
        ("project_name", "back\\slash"),
    ],
)
def test_bad_answer_fails_with_one_line_and_leaves_nothing(cookies, capfd, tmp_path, field, value):
    result = cookies.bake(extra_context={field: value})

    assert result.exit_code != 0
    assert result.project_path is None
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1
    assert errors[0].startswith(f"ERROR: {field} ")
    # pytest-cookies bakes into tmp_path/cookies/bakeNN: those folders stay empty.
    assert [path for path in (tmp_path / "cookies").rglob("*") if not path.is_dir()] == []
    assert [path.name for path in (tmp_path / "cookies").glob("*/*")] == []


PAYLOAD = "x'''); import pathlib; pathlib.Path('{marker}').touch(); #"


def test_hostile_answers_are_data_not_code(cookies, tmp_path):
    marker = tmp_path / "pwned"
    name = PAYLOAD.format(marker=marker)
    # (cookiecutter itself renders `{{ }}` in answers, so none here)
    description = "Quotes \" ' and back\\slashes \\n \\u0041 </script> $(id)"
    author = 'O\'Brien "the \\ author"'

    project = bake(
        cookies,
        project_name=name[:100],
        project_slug="safe-project",
        description=description,
        author_name=author,
    )

    assert not marker.exists()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == description
    assert pyproject["project"]["authors"][0]["name"] == author
    title = next(
        keyword.value.value
        for node in ast.walk(ast.parse((project / "app/main.py").read_text()))
        if isinstance(node, ast.Call)
        for keyword in node.keywords
        if keyword.arg == "title"
    )
    assert title == name[:100]
    answers = json.loads((project / ".cookiecutter.json").read_text())["cookiecutter"]
    assert answers["description"] == description
    for args in (["check"], ["format", "--check"]):
        lint = ruff(project, *args)
        assert lint.returncode == 0, lint.stdout


def test_each_bake_gets_its_own_secret_key(cookies):
    keys = []
    for slug in ("first", "second"):
        project = bake(cookies, project_slug=slug)
        env = (project / ".env").read_text()
        keys.append(re.search(r"^SECRET_KEY=(\S+)$", env, re.MULTILINE).group(1))
        assert ".env" in (project / ".gitignore").read_text().splitlines()

    assert keys[0] != keys[1]
    assert all(len(key) >= 48 for key in keys)


def test_answers_are_recorded_and_replay_to_the_same_project(cookies, tmp_path):
    project = bake(cookies, db_strategy="shared_session", ci="gitlab")
    replay_file = project / ".cookiecutter.json"

    answers = json.loads(replay_file.read_text())["cookiecutter"]
    rebaked = Path(cookiecutter(str(TEMPLATE), replay=str(replay_file), output_dir=tmp_path))

    assert answers["db_strategy"] == "shared_session"
    assert answers["ci"] == "gitlab"
    assert not any(key.startswith("_") for key in answers)
    differing = [
        path.relative_to(project)
        for path in project.rglob("*")
        if path.is_file() and path.name != ".env"
        if path.read_bytes() != (rebaked / path.relative_to(project)).read_bytes()
    ]
    assert differing == []


def test_hooks_use_only_the_standard_library_and_no_subprocess():
    allowed = {
        "io",
        "json",
        "re",
        "secrets",
        "shlex",
        "shutil",
        "sys",
        "tokenize",
        "tomllib",
        "pathlib",
    }
    for hook in HOOKS.glob("*.py"):
        tree = ast.parse(hook.read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module.split(".")[0])
        assert imported <= allowed, f"{hook.name} imports {imported - allowed}"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("123 Service", "service-123-service"),
        ("!!!", "service"),
        ("Ünïcode Café", "unicode-cafe"),
    ],
)
def test_the_slug_derived_from_any_valid_name_is_valid(cookies, name, slug):
    project = bake(cookies, project_name=name)

    assert project.name == slug


@pytest.mark.parametrize(
    "strategy", ["postgres_testcontainer", "postgres_async", "all_async_sqlite"]
)
def test_the_bake_prints_the_next_steps(cookies, capfd, strategy):
    project = bake(cookies, db_strategy=strategy)

    output = capfd.readouterr().out.splitlines()
    steps = output[output.index("Next steps (README.md has the details):") + 1 :]
    assert 3 <= len(steps) <= 6
    assert steps[0].startswith(f"  cd {project} && python3 -m venv .venv")
    assert any("python -m app.cli create-user" in step for step in steps)
    assert any("TEST_DATABASE_URL" in step for step in steps) == strategy.startswith("postgres_")
