"""The generated project's pins: uv.lock matches pyproject.toml, requirements-dev.txt is its
export, and both install exactly what they pin.

`python -m tools.lock` makes each strategy's uv.lock and requirements-dev.txt in a bake of
it. Every check here runs on a bake (the session's `project`, one per strategy): a lock that
no longer matches its pyproject.toml, or an export that no longer matches its lock, fails.
The installs themselves, uv's and the README's pip block with the oldest pip here, are in
tests/test_install.py.
"""

import json
import os
import re
import shutil
import subprocess
import tomllib

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from uv import find_uv_bin

from tests.baking import TEMPLATE, clean_env
from tools.lock import EXPORT, STRATEGIES


def uv(project, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [find_uv_bin(), *args],
        cwd=project,
        env=clean_env({"UV_PYTHON_DOWNLOADS": "never", "UV_OFFLINE": "1"}),
        capture_output=True,
        text=True,
    )


def entries(path) -> list[tuple[Requirement, list[str]]]:
    """Each requirement of an exported requirements file and its hashes."""
    text = re.sub(r"\\\n", " ", path.read_text())
    found = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        spec, *options = line.split(" --")
        found.append((Requirement(spec.strip()), [o for o in options if o.startswith("hash=")]))
    return found


def pins(path, environment=None) -> dict[str, str]:
    """{name: version} of the entries whose markers hold in this environment."""
    return {
        canonicalize_name(req.name): str(req.specifier).removeprefix("==")
        for req, _ in entries(path)
        if req.marker is None or req.marker.evaluate(environment)
    }


def copy_of(project, tmp_path):
    return shutil.copytree(project.path, tmp_path / project.path.name,
                           ignore=shutil.ignore_patterns(".venv", "__pycache__"))  # fmt: skip


def test_every_strategy_has_a_lock_and_its_export():
    strategies = [p for p in STRATEGIES.iterdir() if p.is_dir()]

    assert len(strategies) >= 4
    for strategy in strategies:
        assert (strategy / "uv.lock").stat().st_size > 10_000, strategy.name
        assert (strategy / "requirements-dev.txt").stat().st_size > 10_000, strategy.name


def test_the_lock_matches_pyproject(project):
    checked = uv(project.path, "lock", "--check")

    assert checked.returncode == 0, checked.stderr + "\nrun `python -m tools.lock`"


def test_a_changed_pyproject_makes_the_lock_stale(project, tmp_path):
    copy = copy_of(project, tmp_path)
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("dev = [\n", 'dev = [\n    "rich>=13",\n'))

    checked = uv(copy, "lock", "--check")

    assert checked.returncode != 0
    assert "needs to be updated" in checked.stderr


def test_requirements_dev_txt_is_the_export_of_the_lock(project, tmp_path):
    copy = copy_of(project, tmp_path)
    (copy / "requirements-dev.txt").unlink()

    exported = uv(copy, *EXPORT)

    assert exported.returncode == 0, exported.stderr
    shipped = (project.path / "requirements-dev.txt").read_text()
    assert (copy / "requirements-dev.txt").read_text() == shipped, "run `python -m tools.lock`"


def test_every_export_entry_is_one_exact_version_with_hashes(project):
    found = entries(project.path / "requirements-dev.txt")

    assert len(found) > 20
    for requirement, hashes in found:
        assert re.fullmatch(r"==[^,*]+", str(requirement.specifier)), requirement
        assert hashes, requirement


def test_every_declared_dependency_is_pinned_within_its_range(project):
    pyproject = tomllib.loads((project.path / "pyproject.toml").read_text())
    declared = [*pyproject["project"]["dependencies"], *pyproject["dependency-groups"]["dev"]]
    pinned = pins(project.path / "requirements-dev.txt")

    assert len(declared) > 15
    for requirement in map(Requirement, declared):
        version = pinned.get(canonicalize_name(requirement.name))
        assert version, f"{requirement} is not pinned"
        assert requirement.specifier.contains(version), f"{version} is outside {requirement}"


def test_a_fresh_install_has_exactly_the_locked_versions(project):
    """The project's venv was made by `uv sync --locked` from nothing (tests/baking.py)."""
    listed = subprocess.run(
        [find_uv_bin(), "pip", "list", "--format=json", "--python", str(project.python)],
        capture_output=True,
        text=True,
        env={**os.environ, "UV_OFFLINE": "1"},
    )
    assert listed.returncode == 0, listed.stderr
    installed = {
        canonicalize_name(package["name"]): package["version"]
        for package in json.loads(listed.stdout)
    }
    # The venv was made from this very Python: its markers are this environment's.
    expected = pins(project.path / "requirements-dev.txt", default_environment())

    assert installed == expected


def test_generated_ci_installs_the_uv_the_template_locks_with():
    """One uv version everywhere: the template's uv.lock (which tools.lock runs) and the
    generated CI files, so the CI never reads a lock written by a newer uv."""
    template_lock = tomllib.loads((TEMPLATE / "uv.lock").read_text())
    (version,) = [p["version"] for p in template_lock["package"] if p["name"] == "uv"]
    files = sorted(STRATEGIES.glob("*/*-ci.yml"))

    assert len(files) >= 8
    for path in files:
        text = path.read_text()
        uv_versions = re.findall(r'(?:UV_VERSION|version): "(\d+\.\d+\.\d+)"', text)
        assert uv_versions == [version] * len(uv_versions) and uv_versions, path
        assert "uv sync --locked" in text, path
