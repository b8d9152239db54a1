"""Record each strategy's test durations for pytest-split: `python -m tools.durations`.

For every folder under `_strategies/` with a `conftest.py` (a new strategy is
picked up by itself): bake a project with it, install its pins (the cached venv of
tests/baking.py), run its suite once, serially and in file order, with `--store-durations`,
and keep the result as `_strategies/<strategy>/.test_durations` (the bake puts it at the
project's root). The PostgreSQL strategies get a throwaway server (tests/postgres.py); the
SQLite ones ignore it. Run it after adding or removing many tests, or a strategy.
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

from tests.baking import TEMPLATE, clean_env, installed_python
from tests.postgres import throwaway_server

STRATEGIES = TEMPLATE / "{{cookiecutter.project_slug}}" / "_strategies"


def record(strategy: Path, server_url: str, output_dir: Path) -> None:
    project = Path(
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            output_dir=str(output_dir / strategy.name),
            extra_context={"db_strategy": strategy.name},
        )
    )
    python = installed_python(project)
    (project / ".test_durations").unlink(missing_ok=True)  # only this run's tests
    command = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    done = subprocess.run(
        [*command, "--store-durations"],
        cwd=project,
        env=clean_env({"TEST_DATABASE_URL": server_url}),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"{strategy.name}: the suite failed\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    shutil.copy(project / ".test_durations", strategy / ".test_durations")
    print(f"{strategy.name}: {done.stdout.strip().splitlines()[-1]}")


def main() -> int:
    strategies = sorted(path.parent for path in STRATEGIES.glob("*/conftest.py"))
    with throwaway_server() as url, tempfile.TemporaryDirectory() as scratch:
        for strategy in strategies:
            record(strategy, url, Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
