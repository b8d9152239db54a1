"""Benchmark the template's database-testing strategies against the usual alternatives.

    .venv/bin/python -m benchmarks.run [--quick] [--sizes 50 200 800] [--repeats 3 3 1]
                                       [--patch proposal.diff ...]

Bakes each strategy once, then for each size N writes N generated API tests into a copy
per variant (ours and the baselines of benchmarks/variants.py) and runs them with `-n 0`,
and ours also with `-n 2`; variants take turns within each repeat. PostgreSQL variants all
use one throwaway server (TEST_DATABASE_URL if set). Prints a table, and writes
results/results.json and results/chart.png beside this file.

It exits 1 if one of our strategies fails its tests or lets a row survive a reset; no
timing is ever checked. --quick (N = 50, one repeat) is the CI run.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from cookiecutter.main import cookiecutter
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from benchmarks import report
from benchmarks.suite import bench_tests
from benchmarks.variants import VARIANTS, Variant, patched
from tests.baking import TEMPLATE, Project, installed_python
from tests.postgres import throwaway_server

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PLUGIN = HERE / "plugin.py"
BENCH_TESTS = Path("tests/routers/bench")  # in the project: the generated tests' folder


@dataclass
class Run:
    """One pytest run of one variant at one size."""

    workers: str
    wall_s: float
    returncode: int
    reset_ms: list[float]
    startup_ms: float
    rows_at_start: int | None  # the most rows any test found when it started
    rows_left: int | None  # rows found after the last reset (-n 0 only)
    tail: str  # the end of pytest's output


@dataclass
class Measurement:
    variant: Variant
    n: int
    runs: list[Run] = field(default_factory=list)


def prepare(variant: Variant, bakes: dict[str, Path], workdir: Path) -> Project:
    """A copy of the strategy's baked project, with the plugin and the variant's conftest."""
    path = workdir / f"{variant.strategy}-{variant.key}"
    shutil.copytree(bakes[variant.strategy], path)
    shutil.copy(PLUGIN, path / "bench_plugin.py")
    folder = path / BENCH_TESTS
    folder.mkdir()
    (folder / "__init__.py").touch()
    if source := variant.conftest_source():
        (folder / "conftest.py").write_text(source, encoding="utf-8")
    if variant.patch is not None:
        conftest = path / "tests" / "conftest.py"
        subprocess.run(["patch", "--quiet", str(conftest), str(variant.patch)], check=True)
    if variant.extra_requirements:
        with open(path / "requirements-dev.txt", "a", encoding="utf-8") as requirements:
            requirements.write("".join(map(locked_entry, variant.extra_requirements)))
    return Project(path, installed_python(path))


def locked_entry(requirement: str) -> str:
    """The requirement's pinned entry, hashes included, from a strategy's lock that has it.

    requirements-dev.txt is hashed, and pip then wants every requirement pinned and hashed.
    """
    wanted = Requirement(requirement)
    locks = TEMPLATE.glob("{{cookiecutter.project_slug}}/_strategies/*/requirements-dev.txt")
    for lock in sorted(locks):
        # An entry: `name==version [; marker] \`, then its indented hashes and comments.
        for entry in re.findall(r"^\w.*\n(?:[ \t].*\n)*", lock.read_text(), re.MULTILINE):
            pinned = Requirement(entry.split("\\", 1)[0].strip())
            version = str(pinned.specifier).removeprefix("==")
            if canonicalize_name(pinned.name) == canonicalize_name(wanted.name) and (
                wanted.specifier.contains(version)
            ):
                return entry
    raise LookupError(f"no strategy's lock pins {requirement}")


def run_once(project: Project, variant: Variant, workers: str, server: str) -> Run:
    out = Path(tempfile.mkdtemp(prefix="fdt-bench-out-"))
    env = {
        "TEST_DATABASE_URL": server,
        "BENCH_OUT": str(out),
        "BENCH_RESET_FIXTURE": variant.reset_fixture,
        "BENCH_STARTUP_FIXTURES": ",".join(variant.startup_fixtures),
    }
    args = ("-p", "bench_plugin", "-p", "no:randomly", "-q", "--tb=short", "-n", workers)
    start = time.perf_counter()
    result = project.pytest(*args, *variant.pytest_args, str(BENCH_TESTS), env=env)
    wall_s = time.perf_counter() - start
    processes = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    shutil.rmtree(out)
    rows_at_start = [n for p in processes for n in p["rows_at_start"]]
    rows_left = [p["rows_left"] for p in processes if p["rows_left"] is not None]
    return Run(
        workers=workers,
        wall_s=wall_s,
        returncode=result.returncode,
        reset_ms=[ms for p in processes for ms in p["reset_ms"]],
        startup_ms=max((p["startup_ms"] for p in processes), default=0.0),
        rows_at_start=max(rows_at_start, default=None),
        rows_left=max(rows_left, default=None),
        tail=(result.stdout + result.stderr)[-2000:],
    )


def bake(strategy: str, output_dir: Path) -> Path:
    context = {"db_strategy": strategy}
    return Path(
        cookiecutter(str(TEMPLATE), no_input=True, extra_context=context, output_dir=output_dir)
    )


def machine(server: str) -> dict:
    with psycopg.connect(server) as connection:
        postgres = connection.execute("SHOW server_version").fetchone()[0]
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cores": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "cpu": cpu,
        "python": platform.python_version(),
        "postgresql": postgres,
        "platform": platform.platform(),
    }


def measure(
    variants: list[Variant], sizes: dict[int, int], workdir: Path, server: str
) -> list[Measurement]:
    """Runs of every variant at each size N, repeated sizes[N] times."""
    strategies = sorted({v.strategy for v in variants})
    bakes = {s: bake(s, workdir / "bakes" / s) for s in strategies}
    projects = {v: prepare(v, bakes, workdir) for v in variants}
    measurements = []
    for n, repeats in sizes.items():
        for variant, project in projects.items():
            source = bench_tests(n, sync=variant.strategy == "postgres_testcontainer")
            (project.path / BENCH_TESTS / "test_bench.py").write_text(source, encoding="utf-8")
        at_size = {v: Measurement(v, n) for v in variants}
        for repeat in range(1, repeats + 1):
            for variant, project in projects.items():  # variants take turns: same noise
                # -n 2 for ours only: baselines are compared on one process.
                for workers in ("0", "2") if variant.kind == "ours" else ("0",):
                    run = run_once(project, variant, workers, server)
                    at_size[variant].runs.append(run)
                    status = "ok" if run.returncode == 0 else f"exit {run.returncode}"
                    print(
                        f"N={n} repeat {repeat}/{repeats} -n {workers} {variant.label}: "
                        f"{run.wall_s:.1f} s, {status}",
                        flush=True,
                    )
        measurements.extend(at_size.values())
    return measurements


def _median(values) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


def summary(measurement: Measurement) -> dict:
    """Medians over repeats; the reset's median and p95 are taken per run first."""
    variant, runs = measurement.variant, measurement.runs
    serial = [r for r in runs if r.workers == "0"]
    parallel = [r for r in runs if r.workers == "2"]
    resets = [r.reset_ms for r in serial if len(r.reset_ms) >= 2]
    rows_at_start = [r.rows_at_start for r in runs if r.rows_at_start is not None]
    rows_left = [r.rows_left for r in serial]
    leaked = max(rows_at_start, default=0) > 0 or any(n != 0 for n in rows_left)
    return {
        "strategy": variant.strategy,
        "variant": variant.name,
        "label": variant.label,
        "key": variant.key,
        "kind": variant.kind,
        "n": measurement.n,
        "repeats": len(serial),
        "startup_ms": statistics.median(r.startup_ms for r in serial),
        "reset_median_ms": _median(statistics.median(s) for s in resets),
        "reset_p95_ms": _median(statistics.quantiles(s, n=20)[18] for s in resets),
        "wall_s": statistics.median(r.wall_s for r in serial),
        "wall_n2_s": _median(r.wall_s for r in parallel),
        "tests_passed": all(r.returncode == 0 for r in runs),
        "isolated": not leaked,
        "max_rows_at_test_start": max(rows_at_start, default=None),
        "rows_left_at_end": max((n for n in rows_left if n is not None), default=None),
        "first_failure": next((r.tail for r in runs if r.returncode != 0), None),
        "runs": [
            {
                "workers": r.workers,
                "wall_s": round(r.wall_s, 3),
                "reset_median_ms": _median(r.reset_ms),
                "startup_ms": round(r.startup_ms, 1),
                "returncode": r.returncode,
            }
            for r in runs
        ],
    }


def problems(rows: list[dict]) -> list[str]:
    """What makes --quick fail: one of our strategies failing its tests or leaking rows."""
    found = []
    for row in rows:
        if row["kind"] != "ours":
            continue
        if not row["tests_passed"]:
            found.append(f"{row['label']} N={row['n']}: tests failed\n{row['first_failure']}")
        if not row["isolated"] or row["rows_left_at_end"] is None:
            found.append(
                f"{row['label']} N={row['n']}: rows survived a reset "
                f"(at a test's start: {row['max_rows_at_test_start']}, "
                f"after the last: {row['rows_left_at_end']})"
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 50, one repeat (CI)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 800])
    parser.add_argument(
        "--repeats",
        type=int,
        nargs="+",
        default=[3, 3, 1],
        help="runs of each variant: one number for every size, or one per size",
    )
    parser.add_argument(
        "--patch",
        type=Path,
        action="append",
        default=[],
        help="also run ours with this diff of _strategies/<strategy>/conftest.py applied",
    )
    args = parser.parse_args(argv)
    variants = [*VARIANTS, *map(patched, args.patch)]
    repeats = args.repeats * len(args.sizes) if len(args.repeats) == 1 else args.repeats
    if len(repeats) != len(args.sizes):
        parser.error("--repeats takes one number, or one per size")
    sizes = {50: 1} if args.quick else dict(zip(args.sizes, repeats, strict=True))

    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="fdt-bench-") as tmp, throwaway_server() as server:
        info = machine(server)
        measurements = measure(variants, sizes, Path(tmp), server)
    rows = [summary(m) for m in measurements]
    results = {
        "date": started.isoformat(timespec="seconds"),
        "duration_s": round((datetime.now(UTC) - started).total_seconds()),
        "machine": info | {"load_average_at_end": os.getloadavg()},
        "sizes": list(sizes),
        "repeats": {str(n): r for n, r in sizes.items()},
        "rows": rows,
        "targets": report.targets(rows),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    report.chart(results, RESULTS / "chart.png")
    print(report.table(results))
    if found := problems(rows):
        print("\n".join(["", "PROBLEMS:", *found]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
