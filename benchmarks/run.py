"""Benchmark the template's database-testing strategies against the usual alternatives.

    .venv/bin/python -m benchmarks.run [--quick] [--sizes 50 200 800] [--repeats 3 3 1]
                                       [--patch proposal.diff ...] [--no-suites]

Bakes each strategy once, then for each size N writes N generated API tests into a copy
per variant (ours and the baselines of benchmarks/variants.py) and runs them with `-n 0`,
and ours also with `-n 2`, after the bare harness (benchmarks/harness.py: the same rows and
requests for N iterations, no pytest) of each database; variants take turns within each
repeat. Then, as many times as the first size is repeated, each of our strategies runs its
own shipped suite, after the bare harnesses again. PostgreSQL variants all use one
throwaway server (TEST_DATABASE_URL if set). Prints the tables, and writes
results/results.json and results/chart.png beside this file.

It exits 1 if one of our strategies fails its tests (the generated ones or its shipped
suite), lets a row survive a reset, or the bare harness fails; no timing is ever checked.
--quick (N = 50, one repeat) is the CI run.
"""

import argparse
import json
import os
import platform
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
from uv import find_uv_bin

from benchmarks import report, startup
from benchmarks.suite import bench_tests
from benchmarks.variants import (
    HARNESS_ITERATIONS_FOR_SUITES,
    HARNESS_STRATEGY,
    STRATEGIES,
    VARIANTS,
    Variant,
    patched,
)
from tests.baking import TEMPLATE, Project, bytecode_cache, clean_env, installed_python
from tests.postgres import throwaway_server

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PLUGIN = HERE / "plugin.py"
HARNESS = HERE / "harness.py"
BENCH_TESTS = Path("tests/routers/bench")  # in the project: the generated tests' folder
LAST_TEST = "test_zz_rows_left_by_the_last_reset"  # not one of the N: left out of per-test figures


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
    test_ms: dict[str, float]  # per test: set-up + call + tear-down
    test_cpu_ms: dict[str, float]  # per test: this process's CPU time
    fixtures_seen: set[str]  # which of the variant's reset and start-up fixtures ran


@dataclass
class Measurement:
    variant: Variant
    n: int
    runs: list[Run] = field(default_factory=list)


@dataclass
class HarnessRun:
    """One run of the bare harness."""

    iterations_ms: list[float]
    iterations_cpu_ms: list[float]
    wall_s: float
    returncode: int
    tail: str


@dataclass
class HarnessMeasurement:
    database: str
    n: int | None  # None: the runs beside the shipped suites
    runs: list[HarnessRun] = field(default_factory=list)


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
    if variant.extra_requirements:  # into the dev group and uv.lock, other pins kept
        subprocess.run([find_uv_bin(), "add", "--quiet", "--dev", *variant.extra_requirements],
                       cwd=path, env=clean_env({"UV_PYTHON_DOWNLOADS": "never"}),
                       check=True)  # fmt: skip
    project = Project(path, installed_python(path))
    project.pytest("--collect-only", "-q")  # compiles and caches what every run imports
    return project


def prepare_harness(bakes: dict[str, Path], workdir: Path) -> Project:
    """A copy of the harness strategy's bake, with benchmarks/harness.py beside app/."""
    path = workdir / "harness"
    shutil.copytree(bakes[HARNESS_STRATEGY], path)
    shutil.copy(HARNESS, path / "bench_harness.py")
    return Project(path, installed_python(path))


def run_harness(project: Project, database: str, iterations: int, server: str) -> HarnessRun:
    url = [server] if database == "postgres" else []
    start = time.perf_counter()
    result = project.run("bench_harness", database, str(iterations), *url)
    wall_s = time.perf_counter() - start
    timings = json.loads(result.stdout) if result.returncode == 0 else {}
    return HarnessRun(
        timings.get("iterations_ms", []),
        timings.get("iterations_cpu_ms", []),
        wall_s,
        result.returncode,
        (result.stdout + result.stderr)[-2000:],
    )


def run_once(
    project: Project, variant: Variant, workers: str, server: str, shipped: bool = False
) -> Run:
    """pytest on the N generated tests, or (shipped) on the project's own suite."""
    out = Path(tempfile.mkdtemp(prefix="fdt-bench-out-"))
    env = {
        "TEST_DATABASE_URL": server,
        "BENCH_OUT": str(out),
        "BENCH_RESET_FIXTURE": variant.reset_fixture,
        "BENCH_STARTUP_FIXTURES": ",".join(variant.startup_fixtures),
    }
    args = ("-p", "bench_plugin", "-p", "no:randomly", "-q", "--tb=short", "-n", workers)
    tests = (f"--ignore={BENCH_TESTS}",) if shipped else (*variant.pytest_args, str(BENCH_TESTS))
    start = time.perf_counter()
    result = project.pytest(*args, *tests, env=env)
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
        test_ms={node: ms for p in processes for node, ms in p["test_ms"].items()},
        test_cpu_ms={node: ms for p in processes for node, ms in p["test_cpu_ms"].items()},
        fixtures_seen={name for p in processes for name in p["fixtures_seen"]},
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


def _status(returncode: int) -> str:
    """How a run ended, and the machine's load (1-minute average) when it did."""
    outcome = "ok" if returncode == 0 else f"exit {returncode}"
    return f"{outcome}, load {os.getloadavg()[0]:.1f}"


def measure(
    variants: list[Variant], sizes: dict[int, int], workdir: Path, server: str, suites: bool = True
) -> tuple[list[Measurement], list[HarnessMeasurement], list[Measurement]]:
    """Runs of every variant at each size N, repeated sizes[N] times, each repeat after
    the bare harness of each database; then the shipped suites of ours, after the harness
    again, as many times as the first size. Returns (generated, harness, shipped)."""
    strategies = sorted({v.strategy for v in variants} | {HARNESS_STRATEGY})
    bakes = {s: bake(s, workdir / "bakes" / s) for s in strategies}
    projects = {v: prepare(v, bakes, workdir) for v in variants}
    harness = prepare_harness(bakes, workdir)
    databases = sorted({STRATEGIES[v.strategy].database for v in variants})

    def harness_turn(at: dict[str, HarnessMeasurement], iterations: int, title: str) -> None:
        for database in databases:
            run = run_harness(harness, database, iterations, server)
            at[database].runs.append(run)
            print(f"{title} bare harness {database}: {run.wall_s:.1f} s, {_status(run.returncode)}")

    measurements, harnesses = [], []
    for n, repeats in sizes.items():
        for variant, project in projects.items():
            sync = STRATEGIES[variant.strategy].sync_tests
            source = bench_tests(n, sync=sync)
            (project.path / BENCH_TESTS / "test_bench.py").write_text(source, encoding="utf-8")
        at_size = {v: Measurement(v, n) for v in variants}
        harness_at_size = {d: HarnessMeasurement(d, n) for d in databases}
        for repeat in range(1, repeats + 1):
            harness_turn(harness_at_size, n, f"N={n} repeat {repeat}/{repeats}")
            for variant, project in projects.items():  # variants take turns: same noise
                # -n 2 for ours only: baselines are compared on one process.
                for workers in ("0", "2") if variant.kind == "ours" else ("0",):
                    run = run_once(project, variant, workers, server)
                    at_size[variant].runs.append(run)
                    print(
                        f"N={n} repeat {repeat}/{repeats} -n {workers} {variant.label}: "
                        f"{run.wall_s:.1f} s, {_status(run.returncode)}",
                        flush=True,
                    )
        measurements.extend(at_size.values())
        harnesses.extend(harness_at_size.values())

    ours = {v: p for v, p in projects.items() if v.kind == "ours"}
    shipped = {v: Measurement(v, 0) for v in ours}
    harness_for_suites = {d: HarnessMeasurement(d, None) for d in databases}
    repeats = next(iter(sizes.values())) if suites else 0
    for repeat in range(1, repeats + 1):
        title = f"shipped suites repeat {repeat}/{repeats}"
        harness_turn(harness_for_suites, HARNESS_ITERATIONS_FOR_SUITES, title)
        for variant, project in ours.items():
            run = run_once(project, variant, "0", server, shipped=True)
            shipped[variant].runs.append(run)
            print(f"{title} {variant.label}: {run.wall_s:.1f} s, {_status(run.returncode)}")
    if not repeats:  # --no-suites
        return measurements, harnesses, []
    harnesses.extend(harness_for_suites.values())
    return measurements, harnesses, list(shipped.values())


def _median(values) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


def _medians(per_run: list[list[float]]) -> tuple[float | None, float | None]:
    """Median and mean per run, then the median of each over the runs."""
    per_run = [values for values in per_run if values]
    return (
        _median(statistics.median(values) for values in per_run),
        _median(statistics.mean(values) for values in per_run),
    )


def _per_test(runs: list[Run]) -> dict:
    """Each test's set-up + call + tear-down (and CPU time), the last row-counting test
    of the generated ones left out."""

    def values(r: Run, field: str) -> list[float]:
        return [ms for node, ms in getattr(r, field).items() if LAST_TEST not in node]

    median, mean = _medians([values(r, "test_ms") for r in runs])
    cpu_median, _ = _medians([values(r, "test_cpu_ms") for r in runs])
    return {
        "tests": max((len(values(r, "test_ms")) for r in runs), default=0),
        "test_median_ms": median,
        "test_mean_ms": mean,
        "test_cpu_median_ms": cpu_median,
    }


def _missing_fixtures(variant: Variant, runs: list[Run]) -> list[str]:
    """The variant's reset and start-up fixtures that never ran (renamed in a conftest?)."""
    if not any(r.returncode == 0 for r in runs):
        return []  # a failed run may stop before its fixtures: the failure says more
    named = {variant.reset_fixture, *variant.startup_fixtures}
    seen = set().union(*(r.fixtures_seen for r in runs))
    return sorted(named - seen)


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
        "missing_fixtures": _missing_fixtures(variant, runs),
        **_per_test(serial),
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


def harness_summary(measurement: HarnessMeasurement) -> dict:
    runs = measurement.runs
    median, mean = _medians([r.iterations_ms for r in runs])
    cpu_median, _ = _medians([r.iterations_cpu_ms for r in runs])
    return {
        "database": measurement.database,
        "n": measurement.n,
        "repeats": len(runs),
        "median_ms": median,
        "mean_ms": mean,
        "cpu_median_ms": cpu_median,
        "wall_s": statistics.median(r.wall_s for r in runs),
        "passed": all(r.returncode == 0 for r in runs),
        "first_failure": next((r.tail for r in runs if r.returncode != 0), None),
    }


def suite_summary(measurement: Measurement) -> dict:
    """A strategy's shipped suite: per-test cost and the whole run's wall time."""
    variant, runs = measurement.variant, measurement.runs
    slowest = max(runs, key=lambda r: r.wall_s).test_ms
    return {
        "strategy": variant.strategy,
        "database": STRATEGIES[variant.strategy].database,
        "label": variant.label,
        "key": variant.key,
        "repeats": len(runs),
        **_per_test(runs),
        "slowest_tests_ms": dict(sorted(slowest.items(), key=lambda t: -t[1])[:5]),
        "wall_s": statistics.median(r.wall_s for r in runs),
        "passed": all(r.returncode == 0 for r in runs),
        "first_failure": next((r.tail for r in runs if r.returncode != 0), None),
    }


def problems(rows: list[dict], harnesses: list[dict], suites: list[dict]) -> list[str]:
    """What makes --quick fail: one of our strategies failing its tests (generated or
    shipped) or leaking rows, or the bare harness failing."""
    found = [
        f"bare harness {h['database']}: failed\n{h['first_failure']}"
        for h in harnesses
        if not h["passed"]
    ]
    found += [
        f"{s['label']}: shipped suite failed\n{s['first_failure']}"
        for s in suites
        if not s["passed"]
    ]
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
    parser.add_argument(
        "--no-suites", action="store_true", help="skip the shipped suites (and their harness)"
    )
    parser.add_argument(
        "--startup-repeats",
        type=int,
        default=5,
        help="repeats of the first-result and -n auto runs (benchmarks/startup.py); 0: none. "
        "--quick runs none",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["ours", "floor", "baseline"],
        help="run only these kinds of variant (e.g. `--only ours` for -n 2 at N = 800)",
    )
    args = parser.parse_args(argv)
    variants = [*VARIANTS, *map(patched, args.patch)]
    if args.only:
        variants = [v for v in variants if v.kind in args.only]
    repeats = args.repeats * len(args.sizes) if len(args.repeats) == 1 else args.repeats
    if len(repeats) != len(args.sizes):
        parser.error("--repeats takes one number, or one per size")
    sizes = {50: 1} if args.quick else dict(zip(args.sizes, repeats, strict=True))

    started = datetime.now(UTC)
    with (
        tempfile.TemporaryDirectory(prefix="fdt-bench-") as tmp,
        throwaway_server() as server,
        bytecode_cache(),  # as on a developer's machine: compiled once, not at every start
    ):
        info = machine(server)
        measurements, harness_runs, suite_runs = measure(
            variants, sizes, Path(tmp), server, suites=not args.no_suites
        )
        first = None
        if args.startup_repeats and not args.quick:
            pristine = {s: bake(s, Path(tmp) / "startup" / s) for s in STRATEGIES}
            projects = {s: Project(path, installed_python(path)) for s, path in pristine.items()}
            first = startup.measure(projects, server, args.startup_repeats, print)
    rows = [summary(m) for m in measurements]
    harnesses = [harness_summary(m) for m in harness_runs]
    suites = [suite_summary(m) for m in suite_runs]
    results = {
        "date": started.isoformat(timespec="seconds"),
        "duration_s": round((datetime.now(UTC) - started).total_seconds()),
        "machine": info | {"load_average_at_end": os.getloadavg()},
        "sizes": list(sizes),
        "repeats": {str(n): r for n, r in sizes.items()},
        "rows": rows,
        "harness": harnesses,
        "suites": suites,
        "startup": first,
        "targets": report.targets(rows, harnesses, suites) + report.startup_targets(first),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    report.chart(results, RESULTS / "chart.png")
    print(report.table(results))
    missing = {row["label"]: row["missing_fixtures"] for row in rows if row["missing_fixtures"]}
    for label, names in missing.items():
        print(
            f"WARNING: {label}: no fixture named {', '.join(names)} ran: "
            "figures that time it are missing (update benchmarks/variants.py)",
            file=sys.stderr,
        )
    if found := problems(rows, harnesses, suites) + (first["failures"] if first else []):
        print("\n".join(["", "PROBLEMS:", *found]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
