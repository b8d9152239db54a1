"""The update path: `cruft create`, then a template commit, then `cruft update -y` brings
the change in cleanly, and leaves the project's `.env` (its own SECRET_KEY) alone; a change
to lines the project changed too ends as git conflict markers, as the generated README says."""

import os
import shutil
import subprocess
from pathlib import Path

from tests.baking import TEMPLATE
from tests.test_bake import BIN

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Template Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Template Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}
NOT_TEMPLATE = (".git", ".venv", ".cache", ".ci", "benchmarks", "docs", "__pycache__")


def run(*args, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=os.environ | GIT_ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done


def commit_all(repo: Path, message: str) -> None:
    run("git", "add", "-A", cwd=repo)
    run("git", "commit", "-q", "-m", message, cwd=repo)


def template_repo(tmp_path: Path) -> Path:
    """A git copy of this template, to bake from and commit changes to."""
    template = tmp_path / "template"
    shutil.copytree(TEMPLATE, template, ignore=shutil.ignore_patterns(*NOT_TEMPLATE))
    run("git", "init", "-q", "-b", "main", cwd=template)
    commit_all(template, "template as it is")
    return template


def cruft_project(tmp_path: Path, template: Path) -> Path:
    run(BIN / "cruft", "create", template, "--no-input", "--output-dir", tmp_path, cwd=tmp_path)
    project = tmp_path / "my-fastapi-service"
    run("git", "init", "-q", "-b", "main", cwd=project)
    commit_all(project, "baked with cruft")
    return project


def test_cruft_update_applies_a_template_change_cleanly(tmp_path):
    template = template_repo(tmp_path)
    project = cruft_project(tmp_path, template)
    env_before = (project / ".env").read_bytes()

    readme = template / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text() + "\nA line the template added later.\n")
    commit_all(template, "a template change")
    update = run(BIN / "cruft", "update", "-y", cwd=project)

    assert list(project.rglob("*.rej")) == [], update.stdout + update.stderr
    assert "Next steps" not in update.stdout + update.stderr  # its bakes are not the user's
    assert (project / ".env").read_bytes() == env_before
    assert (project / "README.md").read_text().endswith("\nA line the template added later.\n")
    changed = run("git", "status", "--porcelain", cwd=project).stdout.split("\n")
    assert sorted(line[3:] for line in changed if line) == [".cruft.json", "README.md"]


def test_a_conflicting_change_leaves_conflict_markers_not_rej_files(tmp_path):
    template = template_repo(tmp_path)
    project = cruft_project(tmp_path, template)
    readme = project / "README.md"
    readme.write_text("# Our own title\n" + readme.read_text().split("\n", 1)[1])
    commit_all(project, "our title")
    template_readme = template / "{{cookiecutter.project_slug}}" / "README.md"
    lines = template_readme.read_text().split("\n", 1)
    template_readme.write_text(
        "# {{ cookiecutter.project_name }}, the template's title\n" + lines[1]
    )
    commit_all(template, "a new title")

    update = run(BIN / "cruft", "update", "-y", cwd=project)

    assert "Applied patch to 'README.md' with conflicts." in update.stderr
    assert readme.read_text().startswith(
        "<<<<<<< ours\n# Our own title\n=======\n"
        "# My FastAPI Service, the template's title\n>>>>>>> theirs\n"
    )
    assert "UU README.md" in run("git", "status", "--porcelain", cwd=project).stdout
    assert list(project.rglob("*.rej")) == []
