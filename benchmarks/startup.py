"""The first result and `-n auto`: what a developer waits for, whole pytest processes timed.

First result: with nothing set (no TEST_DATABASE_URL: the default strategy starts its own
server, embedded where no Docker engine answers), the default strategy's wall time for a
database-free file, one API test and `--co`, against all_async_sqlite's, which needs no
server. `-n auto`: each strategy's shipped suite, `pytest -n auto` against `pytest`, on the
benchmark's server. Commands take turns within each repeat (the same stretch of noise);
each project runs every command once first, unmeasured, so that its bytecode is compiled
as on a developer's machine. Medians over the repeats; ratios are the targets' figures.
"""

import statistics
import time
from collections.abc import Callable

from tests.baking import Project

DEFAULT, SQLITE = "postgres_testcontainer", "all_async_sqlite"
FIRST_RESULTS = {  # what a developer runs first, and its arguments
    "a database-free file (tests/test_settings.py)": ("tests/test_settings.py",),
    "one API test": ("tests/routers/test_sessions.py::test_get_session_by_id",),
    "--co": ("--co",),
}
FIRST_RESULT_LIMIT = 1.2  # the default strategy's wall time ÷ all_async_sqlite's, at most
AUTO_LIMIT = 1.05  # `-n auto`'s wall time ÷ serial's, at most


def timed(project: Project, args: tuple[str, ...], env: dict[str, str]) -> tuple[float, int]:
    start = time.perf_counter()
    result = project.pytest("-q", *args, env=env)
    return time.perf_counter() - start, result.returncode


def measure(
    projects: dict[str, Project], server: str, repeats: int, say: Callable[[str], None]
) -> dict:
    """Both measurements; `projects`: each strategy's pristine bake, installed."""
    nothing_set: dict[str, str] = {}  # the run's environment, TEST_DATABASE_URL removed
    on_server = {"TEST_DATABASE_URL": server}
    first = [(name, args, s) for name, args in FIRST_RESULTS.items() for s in (DEFAULT, SQLITE)]
    auto = [(s, workers) for s in projects for workers in ((), ("-n", "auto"))]
    for _, args, strategy in first:  # compile, cache: not measured
        timed(projects[strategy], args, nothing_set)
    for strategy, workers in auto:
        timed(projects[strategy], workers, on_server)
    walls: dict[tuple, list[float]] = {}
    failed: list[str] = []
    for repeat in range(1, repeats + 1):
        for name, args, strategy in first:
            wall, code = timed(projects[strategy], args, nothing_set)
            walls.setdefault(("first", name, strategy), []).append(wall)
            if code not in (0, 5):  # 5: --co's "no tests ran"
                failed.append(f"{strategy}: pytest {' '.join(args)} exited {code}")
        for strategy, workers in auto:
            wall, code = timed(projects[strategy], workers, on_server)
            walls.setdefault(("auto", strategy, workers), []).append(wall)
            if code:
                failed.append(f"{strategy}: pytest {' '.join(workers)} exited {code}")
        say(f"first result and -n auto, repeat {repeat}/{repeats}: done")
    median = {key: statistics.median(values) for key, values in walls.items()}
    return {
        "repeats": repeats,
        "first_result": [
            {
                "command": name,
                "default_s": median["first", name, DEFAULT],
                "sqlite_s": median["first", name, SQLITE],
                "ratio": median["first", name, DEFAULT] / median["first", name, SQLITE],
            }
            for name in FIRST_RESULTS
        ],
        "auto": [
            {
                "strategy": strategy,
                "serial_s": median["auto", strategy, ()],
                "auto_s": median["auto", strategy, ("-n", "auto")],
                "ratio": median["auto", strategy, ("-n", "auto")] / median["auto", strategy, ()],
            }
            for strategy in projects
        ],
        "failures": failed,
    }


def targets(startup: dict) -> list[tuple[str, float, float]]:
    """(target, figure, limit): each figure must be at most its limit."""
    found = [
        (f"first result, {r['command']}: default ÷ {SQLITE} (×)", r["ratio"], FIRST_RESULT_LIMIT)
        for r in startup["first_result"]
    ]
    found += [
        (f"{row['strategy']}: shipped suite, -n auto ÷ serial (×)", row["ratio"], AUTO_LIMIT)
        for row in startup["auto"]
    ]
    return found


def table(startup: dict) -> list[str]:
    lines = [
        "",
        f"First result, nothing set: {DEFAULT} (its own server) against {SQLITE}; whole "
        f"pytest processes, medians of {startup['repeats']}:",
        "",
        f"| command | {DEFAULT} (s) | {SQLITE} (s) | ÷ |",
        "|---|--:|--:|--:|",
    ]
    lines += [
        f"| {r['command']} | {r['default_s']:.2f} | {r['sqlite_s']:.2f} | {r['ratio']:.2f} |"
        for r in startup["first_result"]
    ]
    lines += [
        "",
        "Shipped suites, `pytest` against `pytest -n auto` (tests/parallel.py decides what "
        "auto means), on the benchmark's server:",
        "",
        "| strategy | serial (s) | -n auto (s) | ÷ |",
        "|---|--:|--:|--:|",
    ]
    lines += [
        f"| {r['strategy']} | {r['serial_s']:.2f} | {r['auto_s']:.2f} | {r['ratio']:.2f} |"
        for r in startup["auto"]
    ]
    return lines
