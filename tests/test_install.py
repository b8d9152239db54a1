"""Every strategy installs both ways its README says, with this machine's Python as it
comes, and the `.venv` each way leaves passes the project's own suite.

- uv: the quickstart's install block (`uv sync`), uv on PATH, never downloading a Python.
- pip: the `install-pip` block, run as written with `python3` being the Python these tests
  run on and the pip bundled with it, never upgraded. Python 3.11.7 and 3.12.1 bundle pip
  23.2.1, which refuses a hashed lock once a dependency asks for an extra of a package
  (`coverage[toml]`) that has a newer release than the pinned one; `--no-deps` keeps it
  from resolving at all, so no upstream release can break it again. The SQLite strategies
  share one requirements-dev.txt: it is installed once.
"""

import ensurepip
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.baking import STRATEGIES, clean_env
from tests.test_generated_suites import assert_green, assert_shuffled_with_every_guard
from tools.lock import STRATEGIES as PINS  # _strategies/<strategy>/ of the template

BIN = Path(sys.executable).parent  # the template's .venv: uv is there


def readme_block(project: Path, marker: str) -> str:
    """The first bash block after `<!-- marker -->` in the project's README."""
    readme = (project / "README.md").read_text()
    assert f"<!-- {marker} -->" in readme, marker
    region = readme.split(f"<!-- {marker} -->", 1)[1]
    return re.search(r"^```bash\n(.*?)^```$", region, re.MULTILINE | re.DOTALL)[1]


@pytest.fixture
def fresh_copy(project, tmp_path) -> Path:
    """The bake without any environment, where a team would have it."""
    return shutil.copytree(project.path, tmp_path / project.path.name,
                           ignore=shutil.ignore_patterns(".venv", "__pycache__"))  # fmt: skip


@pytest.fixture
def python3_on_path(tmp_path) -> str:
    """A PATH whose `python3` is this run's own interpreter (not a venv), then uv."""
    folder = tmp_path / "python"
    folder.mkdir()
    (folder / "python3").symlink_to(Path(sys._base_executable).resolve())
    return f"{folder}:{BIN}:{os.environ['PATH']}"


def run_block(script: str, project: Path, path: str) -> subprocess.CompletedProcess:
    environment = clean_env({"PATH": path, "UV_PYTHON_DOWNLOADS": "never"})
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=project,
                          env=environment, capture_output=True, text=True, timeout=600)  # fmt: skip


def venv_pytest(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(project / ".venv/bin/pytest"), "-p", "no:cacheprovider", *args],
        cwd=project, env=clean_env(env), capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_the_uv_block_installs_a_venv_that_passes_in_random_order(fresh_copy, python3_on_path):
    """As a new user runs it: nothing set, so the PostgreSQL strategies find their own server
    (here the embedded one; a container where Docker runs)."""
    script = readme_block(fresh_copy, "quickstart")
    assert script == "uv sync\n"

    done = run_block(script, fresh_copy, python3_on_path)

    assert done.returncode == 0, done.stderr
    result = venv_pytest(fresh_copy, {}, "-p", "randomly", "--randomly-seed=1", "-v")
    assert_green(result)
    assert_shuffled_with_every_guard(result)


def distinct_pins() -> list[str]:
    """One strategy per distinct requirements-dev.txt (the SQLite strategies share theirs):
    the same file installs the same way."""
    first: dict[bytes, str] = {}
    for strategy in STRATEGIES:
        first.setdefault((PINS / strategy / "requirements-dev.txt").read_bytes(), strategy)
    return list(first.values())


@pytest.mark.slow
@pytest.mark.parametrize("project", distinct_pins(), indirect=True)
def test_the_pip_block_installs_a_passing_venv_with_the_bundled_pip(
    fresh_copy, python3_on_path, env
):
    script = readme_block(fresh_copy, "install-pip")
    # A new venv's own pip (the one bundled with this Python, ensurepip's) does the install:
    # nothing upgrades it first. (The lock pins a newer pip, for pip-audit: it comes in last.)
    make_venv, install = script.splitlines()
    assert make_venv == "python3 -m venv .venv"
    assert install.startswith(".venv/bin/python -m pip install --no-deps ")

    done = run_block(script, fresh_copy, python3_on_path)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"installed with the bundled pip {ensurepip.version()}")
    assert_green(venv_pytest(fresh_copy, env, "-q"))
