"""The benchmark's results as a table, the issue's targets, and a chart."""

import math
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file-only backend)

from benchmarks import startup
from benchmarks.variants import STRATEGIES

ASYNC_SQLITE = "all_async_sqlite"  # the suite the PostgreSQL suites' wall time is set against
# The targets against the bare harness (per-test median, mean) and for wall time.
HARNESS_MEDIAN_LIMIT, HARNESS_MEAN_LIMIT, POSTGRES_WALL_LIMIT = 1.3, 2.0, 1.3
COLOURS = {"ours": "tab:blue", "baseline": "tab:orange", "floor": "tab:grey"}
LINES = {"ours": "o-", "baseline": "s--", "floor": "^:"}


def _at(rows: list[dict], n: int) -> dict[tuple[str, str], dict]:
    return {(r["strategy"], r["key"]): r for r in rows if r["n"] == n}


def _floor(at: dict[tuple[str, str], dict], strategy: str) -> dict:
    """The strategy's no-isolation floor; an empty row if it has none (yet)."""
    found = (r for (s, _), r in at.items() if s == strategy and r["kind"] == "floor")
    return next(found, {"wall_s": None})


def _harness_row(harnesses: list[dict], database: str, n: int | None) -> dict:
    """The bare harness's figures for that database at that N (None: the runs beside the
    shipped suites); an empty row if it did not run."""
    found = (h for h in harnesses if (h["database"], h["n"]) == (database, n))
    return next(found, {})


def _harness(harnesses: list[dict], database: str, n: int | None) -> float | None:
    """The bare harness's median per iteration."""
    return _harness_row(harnesses, database, n).get("median_ms")


PER_TEST_COLUMNS = (
    "per test, median (ms) | mean (ms) | CPU, median (ms) | median ÷ harness's "
    "| mean ÷ harness's | CPU ÷ harness's |"
)


def _per_test_header(count: str, extra: str = "", extra_rule: str = "") -> list[str]:
    return [
        f"| strategy / variant | {count} | {PER_TEST_COLUMNS}{extra}",
        f"|---|--:|--:|--:|--:|--:|--:|--:|{extra_rule}",
    ]


def _harness_lines(harnesses: list[dict], n: int | None, count, extra: str = "") -> list[str]:
    lines = []
    for h in sorted((h for h in harnesses if h["n"] == n), key=lambda h: h["database"]):
        cells = (
            f"bare harness ({h['database']})",
            count,
            _number(h["median_ms"], 2),
            _number(h["mean_ms"], 2),
            _number(h["cpu_median_ms"], 2),
            "–",
            "–",
            "–",
        )
        lines.append("| " + " | ".join(map(str, cells)) + " |" + extra)
    return lines


def _per_test_line(label: str, count, row: dict, harness: dict) -> str:
    cells = (
        label,
        count,
        _number(row["test_median_ms"], 2),
        _number(row["test_mean_ms"], 2),
        _number(row["test_cpu_median_ms"], 2),
        _number(_ratio(row["test_median_ms"], harness.get("median_ms")), 2),
        _number(_ratio(row["test_mean_ms"], harness.get("mean_ms")), 2),
        _number(_ratio(row["test_cpu_median_ms"], harness.get("cpu_median_ms")), 2),
    )
    return "| " + " | ".join(map(str, cells)) + " |"


def _async_sqlite_wall(suites: list[dict]) -> float | None:
    found = (s["wall_s"] for s in suites if (s["strategy"], s["key"]) == (ASYNC_SQLITE, "ours"))
    return next(found, None)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _number(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _load(averages: list[float]) -> str:
    return " / ".join(f"{a:.1f}" for a in averages)


def _plotted(value: float | None) -> float:
    return math.nan if value is None else value


def targets(rows: list[dict], harnesses: list[dict], suites: list[dict]) -> list[dict]:
    """The issue's targets for each of ours, with this run's figures at its largest N, and
    for the shipped suites against the bare harness."""
    n = max(r["n"] for r in rows)
    at = _at(rows, n)
    found = []

    def check(target: str, value: float | None, limit: float, at_most: bool = True) -> None:
        if value is None:  # that variant's runs measured nothing
            found.append({"target": target, "value": None, "limit": limit, "met": False})
            return
        met = value <= limit if at_most else value >= limit
        found.append({"target": target, "value": round(value, 3), "limit": limit, "met": met})

    for (strategy, key), ours in at.items():
        if ours["kind"] != "ours":
            continue
        label, reset = ours["label"], ours["reset_median_ms"]
        postgres = STRATEGIES[strategy].database == "postgres"
        limit = STRATEGIES[strategy].isolation_limit_ms
        check(f"{label}: isolation cost per test, median (ms)", reset, limit)
        if (strategy, "postgres_drop_create") in at:
            drop_create = at[strategy, "postgres_drop_create"]["reset_median_ms"]
            check(
                f"{label}: drop_all/create_all's cost per test ÷ ours (×)",
                _ratio(drop_create, reset),
                10,
                at_most=False,
            )
        if floor := _floor(at, strategy)["wall_s"]:  # a strategy may have no floor yet
            check(
                f"{label}: wall time ÷ no-isolation floor's, N={n} (×)",
                _ratio(ours["wall_s"], floor),
                1.5,
            )
        check(
            f"{label}: wall time -n 0 ÷ -n 2, N={n} (×)",
            _ratio(ours["wall_s"], ours["wall_n2_s"]),
            1.7,
            at_most=False,
        )
        if postgres:
            startups = [
                r["startup_ms"] for r in rows if (r["strategy"], r["key"]) == (strategy, key)
            ]
            check(
                f"{label}: session start-up, median over sizes (ms)",
                statistics.median(startups),
                1000,
            )
        harness = _harness(harnesses, STRATEGIES[strategy].database, n)
        check(
            f"{label}: generated tests, per-test median ÷ bare harness's, N={n} (×)",
            _ratio(ours["test_median_ms"], harness),
            HARNESS_MEDIAN_LIMIT,
        )
    sqlite_wall = _async_sqlite_wall(suites)
    for suite in suites:
        label, database = suite["label"], suite["database"]
        harness = _harness_row(harnesses, database, None)
        check(
            f"{label}: shipped suite, per-test median ÷ bare harness's (×)",
            _ratio(suite["test_median_ms"], harness.get("median_ms")),
            HARNESS_MEDIAN_LIMIT,
        )
        check(
            f"{label}: shipped suite, per-test mean ÷ bare harness's (×)",
            _ratio(suite["test_mean_ms"], harness.get("mean_ms")),
            HARNESS_MEAN_LIMIT,
        )
        if database == "postgres":
            check(
                f"{label}: shipped suite wall time ÷ async sqlite's (×)",
                _ratio(suite["wall_s"], sqlite_wall),
                POSTGRES_WALL_LIMIT,
            )
    return found


def startup_targets(first: dict | None) -> list[dict]:
    """The first result's and -n auto's targets (benchmarks/startup.py), when they ran."""
    if not first:
        return []
    return [
        {"target": target, "value": round(value, 3), "limit": limit, "met": value <= limit}
        for target, value, limit in startup.targets(first)
    ]


def table(results: dict) -> str:
    machine = results["machine"]
    lines = [
        f"Benchmark of {results['date']} ({results['duration_s']} s; repeats per size: "
        f"{', '.join(f'N={n}: {r}' for n, r in results['repeats'].items())})",
        f"Machine: {machine['cores']} cores ({machine['cpu']}), Python {machine['python']}, "
        f"PostgreSQL {machine['postgresql']}, {machine['platform']}; load average "
        f"{_load(machine['load_average_at_start'])} at start, "
        f"{_load(machine['load_average_at_end'])} at end",
        "",
        "| strategy / variant | N | start-up (ms) | isolation per test, median (ms) | p95 (ms) "
        "| wall -n 0 (s) | wall -n 2 (s) | -n 0 ÷ -n 2 | wall ÷ floor | isolated | tests |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for n in results["sizes"]:
        at = _at(results["rows"], n)
        for (strategy, _), row in at.items():
            floor = _floor(at, strategy)
            isolated = "yes"
            if not row["isolated"]:
                isolated = (
                    f"no: up to {row['max_rows_at_test_start']} rows at a test's start, "
                    f"{row['rows_left_at_end']} left at the end"
                )
            cells = (
                row["label"],
                n,
                _number(row["startup_ms"], 0),
                _number(row["reset_median_ms"], 2),
                _number(row["reset_p95_ms"], 2),
                _number(row["wall_s"], 2),
                _number(row["wall_n2_s"], 2),
                _number(_ratio(row["wall_s"], row["wall_n2_s"]), 2),
                _number(_ratio(row["wall_s"], floor["wall_s"]), 2),
                isolated,
                "pass" if row["tests_passed"] else "FAIL",
            )
            lines.append("| " + " | ".join(map(str, cells)) + " |")
    harnesses = results["harness"]
    lines += [
        "",
        "Per test: set-up + call + tear-down (pytest's durations; -n 0) and this process's CPU "
        "time, against the bare harness of the same database at the same N (one event loop, "
        "pooled connections, the same row count, rows, request and reset, no pytest):",
        "",
        *_per_test_header("N"),
    ]
    for n in results["sizes"]:
        lines += _harness_lines(harnesses, n, n)
        for row in (r for r in results["rows"] if r["n"] == n and r["kind"] == "ours"):
            harness = _harness_row(harnesses, STRATEGIES[row["strategy"]].database, n)
            lines.append(_per_test_line(row["label"], n, row, harness))
    if results["suites"]:
        lines += [
            "",
            "Shipped suites (the project's own tests, -n 0), against the bare harness run "
            "beside them; wall: the whole pytest process:",
            "",
            *_per_test_header(
                "tests", " wall (s) | wall ÷ async sqlite's | tests |", "--:|--:|---|"
            ),
        ]
        lines += _harness_lines(harnesses, None, "–", " – | – | – |")
        sqlite_wall = _async_sqlite_wall(results["suites"])
        for suite in results["suites"]:
            harness = _harness_row(harnesses, suite["database"], None)
            wall = (
                _number(suite["wall_s"], 2),
                _number(_ratio(suite["wall_s"], sqlite_wall), 2),
                "pass" if suite["passed"] else "FAIL",
            )
            lines.append(
                _per_test_line(suite["label"], suite["tests"], suite, harness)
                + "".join(f" {cell} |" for cell in wall)
            )
    if results.get("startup"):
        lines += startup.table(results["startup"])
    lines += ["", "| target | figure | limit | met |", "|---|--:|--:|---|"]
    for target in results["targets"]:
        met = "yes" if target["met"] else "**no**"
        value = "–" if target["value"] is None else target["value"]
        lines.append(f"| {target['target']} | {value} | {target['limit']} | {met} |")
    return "\n".join(lines)


def chart(results: dict, path: Path) -> None:
    rows, sizes = results["rows"], results["sizes"]
    labels = list(dict.fromkeys(r["label"] for r in rows))
    largest = {r["label"]: r for r in rows if r["n"] == sizes[-1]}
    figure, (cost, wall, speedup) = plt.subplots(1, 3, figsize=(18, 6))

    colours = [COLOURS[largest[label]["kind"]] for label in labels]
    cost.barh(
        labels, [_plotted(largest[label]["reset_median_ms"]) for label in labels], color=colours
    )
    cost.set_xscale("log")
    cost.set_xlabel("ms per test, median (log scale). Blue: ours; orange: baselines")
    cost.set_title(f"Isolation cost per test, N={sizes[-1]}")
    cost.invert_yaxis()

    for label in labels:
        points = [r for r in rows if r["label"] == label]
        style = LINES[points[0]["kind"]]
        wall.plot([r["n"] for r in points], [r["wall_s"] for r in points], style, label=label)
    wall.set_xscale("log")
    wall.set_yscale("log")
    wall.minorticks_off()
    wall.set_xticks(sizes, [str(n) for n in sizes])
    wall.set_xlabel("N (API tests)")
    wall.set_ylabel("s")
    wall.set_title("Whole-suite wall time, -n 0")
    wall.legend(fontsize="x-small")

    ours = [label for label in labels if largest[label]["kind"] == "ours"]
    speedup.barh(
        ours,
        [_ratio(largest[x]["wall_s"], largest[x]["wall_n2_s"]) for x in ours],
        color=COLOURS["ours"],
    )
    speedup.axvline(1.7, color="grey", linestyle="--", label="target for ours: 1.7")
    speedup.set_xlabel("wall -n 0 ÷ wall -n 2")
    speedup.set_title(f"Speed-up with -n 2, N={sizes[-1]}")
    speedup.invert_yaxis()
    speedup.legend(fontsize="small")

    machine = results["machine"]
    figure.suptitle(
        f"fastapi-db-tests, {results['date']}: {machine['cores']} cores, "
        f"Python {machine['python']}, PostgreSQL {machine['postgresql']}"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
