"""The hooks: bad answers stop the bake cleanly, hostile answers stay data."""

import ast
import json
import os
import re
import subprocess
import tempfile
import tomllib
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from tests.baking import TEMPLATE
from tests.conftest import bake
from tests.test_bake import BIN, ruff

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
        ("project_slug", "fastapi"),  # a package the project installs: uv could not tell them
        ("project_slug", "limits"),  # apart (post-gen hook, once uv.lock is in place)
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
        "os",
        "re",
        "secrets",
        "shlex",
        "shutil",
        "sys",
        "tempfile",
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
def test_the_bake_prints_the_next_steps(cookies, capfd, monkeypatch, tmp_path, strategy):
    monkeypatch.setenv("PWD", str(tmp_path))  # where cookiecutter runs; it bakes below
    project = bake(cookies, db_strategy=strategy)

    output = capfd.readouterr().out.splitlines()
    heading = next(i for i, line in enumerate(output) if line.startswith("Next steps"))
    steps = output[heading + 1 :]
    assert 3 <= len(steps) <= 6
    assert steps[0] == f"  cd {project.relative_to(tmp_path)} && uv sync"
    assert all(step.startswith("  uv run ") or "uv run " in step for step in steps[1:])
    assert any("python -m app.cli create-user" in step for step in steps)
    assert any("TEST_DATABASE_URL" in step for step in steps) == strategy.startswith("postgres_")


def test_next_steps_give_an_absolute_path_outside_the_working_folder(cookies, capfd, monkeypatch):
    monkeypatch.setenv("PWD", "/nonexistent")
    project = bake(cookies)

    assert f"  cd {project} && uv sync" in capfd.readouterr().out.splitlines()


CHOICE_FIELDS = [
    field
    for field, value in json.loads((TEMPLATE / "cookiecutter.json").read_text()).items()
    if isinstance(value, list)
]


@pytest.mark.parametrize("field", CHOICE_FIELDS)
def test_a_bad_choice_in_a_replay_file_fails_with_one_line(cookies, capfd, tmp_path, field):
    """`--no-input` refuses a bad choice in cookiecutter itself; a replay file (or cruft)
    brings any value to the hooks, and the pre-gen hook stops it."""
    replay = tmp_path / "answers.json"
    answers = json.loads((bake(cookies) / ".cookiecutter.json").read_text())
    answers["cookiecutter"][field] = "nope"
    replay.write_text(json.dumps(answers))
    capfd.readouterr()

    with pytest.raises(Exception, match="pre_gen_project|Hook script failed"):
        cookiecutter(str(TEMPLATE), replay=str(replay), output_dir=tmp_path / "out")

    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR:")]
    assert errors == [
        f"ERROR: {field} 'nope' is not valid: use one of "
        + ", ".join(json.loads((TEMPLATE / "cookiecutter.json").read_text())[field])
        + ". Nothing was generated."
    ]
    assert list((tmp_path / "out").glob("*")) == []


def test_the_strategy_prompt_shows_each_strategy_by_the_name_the_readmes_use(tmp_path):
    answers = "\n" * 20  # every default
    done = subprocess.run(
        [str(BIN / "cookiecutter"), "-o", str(tmp_path), str(TEMPLATE)],
        input=answers,
        capture_output=True,
        text=True,
        env=os.environ | {"COLUMNS": "250"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    prompt = done.stdout.split("How tests reach the database", 1)[1].split("Choose from", 1)[0]
    options = re.findall(r"^\s*\d+ - (\w+) — \S", prompt, re.MULTILINE)
    strategies = json.loads((TEMPLATE / "cookiecutter.json").read_text())["db_strategy"]
    assert options == strategies
    readmes = (TEMPLATE / "README.md").read_text() + (
        TEMPLATE / "{{cookiecutter.project_slug}}" / "README.md"
    ).read_text()
    assert all(f"`{name}`" in readmes for name in strategies)


@pytest.mark.parametrize("answers", [{}, {"project_slug": "Bad Slug"}])
def test_a_bake_leaves_nothing_in_the_temporary_folder(cookies, monkeypatch, tmp_path, answers):
    """Cookiecutter leaves each hook's rendered copy there; the hooks remove theirs."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # for the hooks' own processes
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # for cookiecutter, in this one

    result = cookies.bake(extra_context=answers)

    assert (result.exit_code == 0) == (answers == {})
    assert list(scratch.iterdir()) == []


def test_the_generated_readme_says_the_description_once(cookies):
    project = bake(cookies)  # the default description, "A FastAPI service on async ..."
    description = json.loads((TEMPLATE / "cookiecutter.json").read_text())["description"]

    opening = (project / "README.md").read_text().split("\n## ", 1)[0]

    assert opening.count(description) == 1
    assert opening.count(" ".join(description.split()[:5])) == 1  # nor a near copy of it
