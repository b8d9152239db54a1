"""The API tests on a 200-table schema against the shipped 3-table one (issue 18).

    .venv/bin/python -m benchmarks.reset_suite [--tests 150] [--repeats 6]

Bakes postgres_async once and makes two copies, each with benchmarks/plugin.py and the N
generated API tests of benchmarks/suite.py: as baked (its migrations make 3 tables), and
"wide", with one more Alembic migration that makes 197 more tables (the schema of
benchmarks/reset.py: a seeded lookup table and 196 tables linked by foreign keys, apart
from the app's), so 200. Both run `pytest -n 0` on one throwaway server (TEST_DATABASE_URL
if set), in turns, each first as often as the other, after one unmeasured run each (it
builds each one's migrated template database). Per test: pytest's set-up + call +
tear-down, and the `database` fixture's own set-up + tear-down (the reset); medians per
run, then the median over the repeats (a run's median moves by up to 10% from one run to
the next here: 6 repeats by default). And the session's start-up (benchmarks/plugin.py's
start-up fixtures: the run's database cloned from the template, the engines).

Prints a Markdown table and the target (the wide schema's per-test median ≤ 1.15× the
baked one's), writes results/reset_suite.json; exits 1 if a run fails or a test starts
with rows in the app's tables, never because of a timing.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from benchmarks import reset
from benchmarks.run import BENCH_TESTS, LAST_TEST, PLUGIN, Run, bake, run_once
from benchmarks.suite import bench_tests
from benchmarks.variants import STRATEGIES, VARIANTS
from tests.baking import Project, installed_python
from tests.postgres import throwaway_server

HERE = Path(__file__).resolve().parent
STRATEGY = "postgres_async"
OURS = next(v for v in VARIANTS if v.strategy == STRATEGY and v.kind == "ours")
EXTRA = 197  # tables the wide copy's migration adds to the app's 3
LIMIT = 1.15

MIGRATION = '''\
"""Benchmark only (benchmarks/reset_suite.py): {count} more tables, a big service's size.

Revision ID: 9999
Revises: {down}
"""

from alembic import op

revision = "9999"
down_revision = "{down}"
branch_labels = None
depends_on = None

STATEMENTS = {statements!r}
TABLES = {tables!r}


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE " + ", ".join(TABLES))
'''


def prepare(baked: Path, path: Path, n: int, extra: int) -> Project:
    """A copy of the bake with the plugin and N generated tests; `extra` tables more."""
    shutil.copytree(baked, path)
    shutil.copy(PLUGIN, path / "bench_plugin.py")
    folder = path / BENCH_TESTS
    folder.mkdir()
    (folder / "__init__.py").touch()
    source = bench_tests(n, sync=STRATEGIES[STRATEGY].sync_tests)
    (folder / "test_bench.py").write_text(source, encoding="utf-8")
    if extra:
        versions = path / "migrations" / "versions"
        heads = sorted(p.stem.split("_")[0] for p in versions.glob("[0-9]*.py"))
        ddl, names = reset.schema(extra - 1)  # plans + extra - 1 generated tables
        migration = MIGRATION.format(
            count=extra, down=heads[-1], statements=ddl.split(";\n"), tables=names
        )
        (versions / "9999_benchmark_wide_schema.py").write_text(migration, encoding="utf-8")
    project = Project(path, installed_python(path))
    project.pytest("--collect-only", "-q")  # compiles and caches what every run imports
    return project


def tracked_tables(server: str) -> dict[str, int]:
    """Per database on the server that has the reset: how many tables it tracks (the app's,
    and alembic_version, which holds a row: 4 as baked)."""
    with psycopg.connect(server) as admin:
        names = admin.execute("SELECT datname FROM pg_database WHERE datallowconn").fetchall()
    counts = {}
    for (name,) in names:
        with psycopg.connect(reset.with_database(server, name)) as connection:
            found = connection.execute("SELECT to_regclass('pytest_reset.tables')").fetchone()
            if found[0] is not None:
                count = connection.execute("SELECT count(*) FROM pytest_reset.tables")
                counts[name] = count.fetchone()[0]
    return counts


def medians(run: Run) -> tuple[float, float]:
    """Per test: the median of pytest's durations, and of the reset fixture's."""
    tests = [ms for node, ms in run.test_ms.items() if LAST_TEST not in node]
    return statistics.median(tests), statistics.median(run.reset_ms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=150, help="generated API tests per run")
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--output", type=Path, default=HERE / "results" / "reset_suite.json")
    args = parser.parse_args(argv)
    load_start, started = os.getloadavg(), datetime.now(UTC)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in load_start)}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="fdt-reset-suite-"))
    runs: dict[str, list[Run]] = {"3 tables (as baked)": [], f"{3 + EXTRA} tables": []}
    problems: list[str] = []
    try:
        baked = bake(STRATEGY, workdir / "bake")
        projects = {
            label: prepare(baked, workdir / f"copy{i}", args.tests, EXTRA if i else 0)
            for i, label in enumerate(runs)
        }
        with throwaway_server() as server:
            for label, project in projects.items():  # builds its template: not measured
                warm = run_once(project, OURS, "0", server)
                print(f"warm-up {label}: {warm.wall_s:.1f} s, exit {warm.returncode}", flush=True)
            tracked = tracked_tables(server)
            print(f"tables under the reset, per database on the server: {tracked}", flush=True)
            if sorted(set(tracked.values()))[-2:] != [4, 4 + EXTRA]:
                problems.append(f"not one database of 4 tables and one of {4 + EXTRA}: {tracked}")
            for repeat in range(1, args.repeats + 1):
                turn = list(projects.items())  # in turns (the same noise), each first
                for label, project in turn if repeat % 2 else reversed(turn):  # as often
                    run = run_once(project, OURS, "0", server)
                    runs[label].append(run)
                    load = os.getloadavg()[0]
                    print(f"repeat {repeat}/{args.repeats} {label}: {run.wall_s:.1f} s, "
                          f"exit {run.returncode}, load {load:.1f}", flush=True)  # fmt: skip
                    if run.returncode:
                        problems.append(f"{label}: pytest exited {run.returncode}\n{run.tail}")
                    if run.rows_at_start:
                        problems.append(f"{label}: a test started with {run.rows_at_start} rows")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    load_end = os.getloadavg()
    if problems:
        print("\n".join(f"PROBLEM: {p}" for p in problems))
        return 1
    results = {}
    for label, done in runs.items():
        per_run = [medians(run) for run in done]
        results[label] = {
            "test_median_ms": statistics.median(t for t, _ in per_run),
            "reset_median_ms": statistics.median(r for _, r in per_run),
            "wall_s": statistics.median(run.wall_s for run in done),
            "startup_ms": statistics.median(run.startup_ms for run in done),
            "per_run": per_run,
        }
    plain, wide = results.values()
    ratio = wide["test_median_ms"] / plain["test_median_ms"]
    print(f"\nThe generated API tests ({args.tests} a run, -n 0), {STRATEGY}, medians over "
          f"{args.repeats} runs each, {started:%Y-%m-%d %H:%M} UTC, load average "
          f"{load_start[0]:.2f} at start, {load_end[0]:.2f} at end\n")  # fmt: skip
    print("| schema | per test, median (ms) | ÷ 3 tables | reset fixture, median (ms) "
          "| session start-up (ms) | wall (s) |")  # fmt: skip
    print("|---|--:|--:|--:|--:|--:|")
    for label, got in results.items():
        over = got["test_median_ms"] / plain["test_median_ms"]
        print(f"| {label} | {got['test_median_ms']:.2f} | {over:.2f} "
              f"| {got['reset_median_ms']:.2f} | {got['startup_ms']:.0f} "
              f"| {got['wall_s']:.1f} |")  # fmt: skip
    met = ratio <= LIMIT
    print(f"\n- per-test median at {3 + EXTRA} tables ≤ {LIMIT}× at 3: {ratio:.2f}×, "
          f"met: {'yes' if met else 'no'}")  # fmt: skip
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "started": started.isoformat(timespec="seconds"),
        "load_average_at_start": load_start,
        "load_average_at_end": load_end,
        "tests": args.tests,
        "repeats": args.repeats,
        "results": results,
        "ratio": ratio,
        "met": met,
    }, indent=2) + "\n")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
