"""Lock the generated project's dependencies: `python -m tools.lock [uv lock options]`.

For every strategy (each folder under `_strategies/`: a new one is picked up by itself),
bake a project with it, run `uv lock` there, and keep two files in the strategy's folder,
which the bake puts at the project's root:

- `uv.lock`: every direct and transitive dependency of `pyproject.toml` (the runtime ones
  and the strategy's `dev` group) pinned to one version with its hashes, for every platform
  and every Python the project supports. It names the project, so the name is kept as the
  Jinja tag of the slug and every bake's lock names its own project.
- `requirements-dev.txt`: the same pins exported for pip (`uv export`, EXPORT below), for
  teams without uv: `pip install --no-deps -r requirements-dev.txt` installs exactly these.

Existing pins are kept wherever `pyproject.toml` allows: only new or changed requirements
move. Options go to `uv lock`: `--upgrade` moves everything to the newest allowed versions,
`--upgrade-package NAME` moves one package. tests/test_pins.py fails when a lock no longer
matches its bake's `pyproject.toml`, or an export no longer matches its lock.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cookiecutter.main import cookiecutter
from uv import find_uv_bin

TEMPLATE = Path(__file__).resolve().parents[1]
STRATEGIES = TEMPLATE / "{{cookiecutter.project_slug}}" / "_strategies"
# The generated README's pip block and tests/test_pins.py use this very command.
EXPORT = ("export", "--frozen", "--no-emit-project", "--quiet", "-o", "requirements-dev.txt")
SLUG = "lock-placeholder"  # the bake's name while locking; any slug works in the lock
SLUG_TAG = "{{ cookiecutter.project_slug }}"
LOCKED = ("uv.lock", "requirements-dev.txt")


def strategies() -> list[Path]:
    return sorted(path.parent for path in STRATEGIES.glob("*/conftest.py"))


def bake(strategy: str, output_dir: Path) -> Path:
    answers = {"project_name": SLUG, "db_strategy": strategy, "ci": "none"}
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output_dir),
                             extra_context=answers))  # fmt: skip


def uv(*args: str, cwd: Path) -> None:
    """Run uv in a bake, as a team would: never downloading a Python, never in our venv."""
    environment = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    environment["UV_PYTHON_DOWNLOADS"] = "never"
    subprocess.run([find_uv_bin(), *args], cwd=cwd, check=True, env=environment)


def lock(strategy: Path, extra: list[str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        project = bake(strategy.name, Path(scratch))
        for name in LOCKED:  # the bake has the template's, named for this bake: reuse pins
            (project / name).unlink(missing_ok=True)
        if (strategy / "uv.lock").stat().st_size:
            (project / "uv.lock").write_text(
                (strategy / "uv.lock").read_text().replace(SLUG_TAG, SLUG)
            )
        uv("lock", "--quiet", *extra, cwd=project)
        uv(*EXPORT, cwd=project)
        for name in LOCKED:
            text = (project / name).read_text()
            (strategy / name).write_text(text.replace(SLUG, SLUG_TAG))


def main(extra: list[str]) -> int:
    for strategy in strategies():
        started = time.monotonic()
        lock(strategy, extra)
        print(f"{strategy.name}: {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
