"""The reset's cost per test against the schema's size (issue 18), beside the classic ways.

    .venv/bin/python -m benchmarks.reset [--tables 3 50 200 1000] [--tests 500]

For each N, a database on one throwaway PostgreSQL server (TEST_DATABASE_URL if set) gets a
schema like a service's: N generated tables linked by foreign keys (half of them ON DELETE
CASCADE; bigint identity keys, some uuid columns with a unique index, an index on every
foreign key) under one seeded lookup table, `plans` (3 rows, as a data migration leaves
them), so N + 1 tables in all. The three-row test's tables (t0001 -> t0002 -> t0003) have
the same neighbours at every N, so that only the schema's size changes; the other tables
make a tree of their own. Two copies: one with the template's reset installed
(its own reset.sql, put in as its reset.py's `install` does), one without, for the classic
ways, which the reset's triggers would otherwise slow down.

A simulated test, as a teardown runs it: one dedicated autocommit connection sends the
reset, timed; the test's writes, when it makes any, are committed before on another
connection and not timed (their time is recorded apart: the triggers add to it). Measured
per test, for every N in turns (the same stretch of the machine's load for all; in a new
random order each turn, as a statement pays more first or after a long one, such as DELETE
at 1,000 tables): `SELECT 1`, the round trip alone, for scale (before or after (a), in
turns); (a) our reset after a test that wrote nothing; (b) our reset after a test that
inserted one row in each of three tables (a parent, its child, its grandchild); (c) one
statement of `DELETE FROM` every table, children first, after the same test; then, in a
phase of its own, (d) `TRUNCATE` of every table in one statement after the same test
(fewer iterations as N grows: it is slow, and its catalog churn would disturb the others).
The classic ways leave `plans` alone (as DatabaseCleaner's `except` would).

Prints a Markdown table and the issue's targets, writes results/reset.json beside this file
(or --output). Exits 1 if a reset leaves a row it should have removed (checked after the
first and every 50th three-row test, and over every table at the end) or loses a seeded
row (checked then too, and, for ours, after one last test, not timed, that changes, deletes
and adds rows of `plans`); never because of a timing.
"""

import argparse
import ast
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from tests.postgres import throwaway_server

HERE = Path(__file__).resolve().parent
TEMPLATE_RESET = HERE.parent / "{{cookiecutter.project_slug}}" / "tests" / "postgres"
MACHINERY = (TEMPLATE_RESET / "reset.sql").read_text(encoding="utf-8")
WRITTEN = ("t0001", "t0002", "t0003")  # the three-row test's tables: parent, child, grandchild
SEEDS = [(1, "free", 0), (2, "team", 1900), (3, "business", 4900)]
CHECK_EVERY = 50
TRUNCATE_BUDGET = 10_000  # TRUNCATE runs at most this many tables' worth of tests per N
LIMIT_RATIO, LIMIT_NOTHING_MS = 1.15, 0.1  # issue 18's targets


def template_reset() -> str:
    """RESET as the template's reset.py defines it. Read, not imported: reset.py imports
    SQLAlchemy, which the template's own .venv does not have."""
    tree = ast.parse((TEMPLATE_RESET / "reset.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "RESET" for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise RuntimeError(f"no RESET in {TEMPLATE_RESET / 'reset.py'}")


RESET = template_reset()


def parent(i: int) -> int:
    """The table t{i}'s foreign key points at: t0001 -> t0002 -> t0003, the three-row test's
    chain, has the same neighbours at every N; the other tables make a tree rooted at
    t0004 (t0005 under it, then two children a table: t0006 and t0007 under t0005, and so
    on). 0: plans, for both roots."""
    if i <= 3:
        return i - 1
    j = i - 3
    return 0 if j == 1 else 3 + (j + 1) // 2


def schema(n: int) -> tuple[str, list[str]]:
    """The DDL of N tables and the seeded lookup, and all their names, parents first."""
    ddl = [
        "CREATE TABLE plans (id smallint PRIMARY KEY, code text NOT NULL UNIQUE, "
        "monthly_cents int NOT NULL)",
        "INSERT INTO plans VALUES " + ", ".join(f"({i}, '{c}', {m})" for i, c, m in SEEDS),
    ]
    names = ["plans"]
    for i in range(1, n + 1):
        name = f"t{i:04d}"
        if parent(i) == 0:
            columns = ["plan_id smallint NOT NULL REFERENCES plans"]
        else:
            cascade = " ON DELETE CASCADE" if i % 2 else ""
            columns = [f"parent_id bigint NOT NULL REFERENCES t{parent(i):04d}{cascade}"]
            if i % 10 == 0:
                columns.append("plan_id smallint REFERENCES plans")
        if i % 4 == 0:
            columns.append("public_id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE")
        columns += [
            "name text NOT NULL",
            "amount numeric(12, 2) NOT NULL DEFAULT 0",
            "created_at timestamptz NOT NULL DEFAULT now()",
        ]
        key = "id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
        ddl.append(f"CREATE TABLE {name} ({key}, {', '.join(columns)})")
        foreign = "plan_id" if parent(i) == 0 else "parent_id"
        ddl.append(f"CREATE INDEX ON {name} ({foreign})")
        names.append(name)
    return ";\n".join(ddl), names


def install(connection: psycopg.Connection, names: list[str]) -> None:
    """What the template's reset.py `install` does, without SQLAlchemy's inspector: the
    machinery, then every table tracked, parents first (the order `schema` made them in)."""
    connection.execute(MACHINERY)  # no parameters: sent as it is, many statements
    connection.execute("SELECT pytest_reset.track_all(%s)", (names,))


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def write_three_rows(writer: psycopg.Connection) -> float:
    """The test: a row in a parent, its child and its grandchild, committed. Its ms."""
    start = time.perf_counter()
    with writer.transaction():
        (one,) = writer.execute(
            "INSERT INTO t0001 (plan_id, name) VALUES (2, 'acme') RETURNING id"
        ).fetchone()
        (two,) = writer.execute(
            "INSERT INTO t0002 (parent_id, name) VALUES (%s, 'order') RETURNING id", (one,)
        ).fetchone()
        writer.execute("INSERT INTO t0003 (parent_id, name) VALUES (%s, 'line')", (two,))
    return (time.perf_counter() - start) * 1000


def timed(connection: psycopg.Connection, statement: str) -> float:
    """One statement sent and its result received, as a teardown would: its ms."""
    start = time.perf_counter()
    connection.execute(statement)
    return (time.perf_counter() - start) * 1000


class Schema:
    """One N: its two databases (with the reset, and plain), a resetter and a writer each."""

    def __init__(self, server: str, n: int, prefix: str) -> None:
        self.n = n
        self.server = server
        self.ours_db, self.plain_db = f"{prefix}_{n}", f"{prefix}_{n}_plain"
        ddl, self.names = schema(n)
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {self.plain_db}")
        with psycopg.connect(with_database(server, self.plain_db)) as connection:
            connection.execute(ddl)
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {self.ours_db} TEMPLATE {self.plain_db}")
        with psycopg.connect(with_database(server, self.ours_db)) as connection:
            install(connection, self.names)
        connect = psycopg.Connection.connect
        self.ours = connect(with_database(server, self.ours_db), autocommit=True)
        self.ours_writer = connect(with_database(server, self.ours_db), autocommit=True)
        self.plain = connect(with_database(server, self.plain_db), autocommit=True)
        self.plain_writer = connect(with_database(server, self.plain_db), autocommit=True)
        tables = self.names[1:]  # the classic ways leave the seeded lookup alone
        self.delete = "; ".join(f"DELETE FROM {name}" for name in reversed(tables))
        self.truncate = f"TRUNCATE {', '.join(tables)}"

    def close(self) -> None:
        for connection in (self.ours, self.ours_writer, self.plain, self.plain_writer):
            connection.close()
        with psycopg.connect(self.server, autocommit=True) as admin:
            for name in (self.ours_db, self.plain_db):
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def left_behind(connection: psycopg.Connection, tables: tuple[str, ...] | list[str]) -> list[str]:
    """What is wrong with the database after a reset: rows left in these tables, seeds lost."""
    counts = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in tables)
    problems = [f"{count} rows left in {t}" for t, count in connection.execute(counts) if count]
    seeds = connection.execute("SELECT id, code, monthly_cents FROM plans ORDER BY id").fetchall()
    if seeds != SEEDS:
        problems.append(f"plans holds {seeds}, not its seeds {SEEDS}")
    return problems


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": statistics.median(ordered), "p95_ms": p95, "tests": len(ordered)}


def measure(
    schemas: list[Schema],
    tests: int,
    truncates: dict[int, int],
    warmup: int,
    say: Callable[[str], None],
):
    """The four costs (and the writes' time), per N; the problems found."""
    keys = ("nothing", "three", "delete", "truncate", "floor", "writes_ours", "writes_plain")
    samples = {s.n: {key: [] for key in keys} for s in schemas}
    problems: list[str] = []
    shuffle = random.Random(18).shuffle

    def check(s: Schema, connection: psycopg.Connection, way: str) -> None:
        problems.extend(f"N = {s.n}, {way}: {p}" for p in left_behind(connection, WRITTEN))

    for i in range(-warmup, tests):  # phase 1: (a), (b), (c), every N in turns
        order = list(schemas)
        shuffle(order)  # each N first, and after the slow ones, as often as the others
        for s in order:
            got = samples[s.n]
            if i % 2:  # the round trip alone, for scale; first every other time, as (a)
                floor = timed(s.ours, "SELECT 1")
                nothing = timed(s.ours, RESET)
            else:
                nothing = timed(s.ours, RESET)
                floor = timed(s.ours, "SELECT 1")
            writes = write_three_rows(s.ours_writer)
            three = timed(s.ours, RESET)
            plain_writes = write_three_rows(s.plain_writer)
            delete = timed(s.plain, s.delete)
            if i >= 0:
                for key, value in (("floor", floor), ("nothing", nothing), ("three", three),
                                   ("delete", delete), ("writes_ours", writes),
                                   ("writes_plain", plain_writes)):  # fmt: skip
                    got[key].append(value)
            if i % CHECK_EVERY == 0:
                check(s, s.ours, "our reset")
                check(s, s.plain, "DELETE")
        if i >= 0 and (i + 1) % 100 == 0:
            say(f"  {i + 1}/{tests} tests, load {os.getloadavg()[0]:.1f}")
    for s in schemas:  # phase 2: (d), after the others (its catalog churn disturbs them)
        runs = truncates[s.n]
        for i in range(-min(warmup, 3), runs):
            write_three_rows(s.plain_writer)
            truncate = timed(s.plain, s.truncate)
            if i >= 0:
                samples[s.n]["truncate"].append(truncate)
            if i % CHECK_EVERY == 0:
                check(s, s.plain, "TRUNCATE")
        say(f"  N = {s.n}: TRUNCATE x {runs}, load {os.getloadavg()[0]:.1f}")
    for s in schemas:  # at the end: every table empty, seeds in place
        for way, connection in (("our reset", s.ours), ("DELETE/TRUNCATE", s.plain)):
            problems.extend(f"N = {s.n}, {way}: {p}" for p in left_behind(connection, s.names[1:]))
        problems.extend(seeds_restored(s))
    return {n: {k: summary(v) for k, v in got.items() if v} for n, got in samples.items()}, problems


def seeds_restored(s: Schema) -> list[str]:
    """Not timed: a test that changes and deletes seeded rows; our reset must put them back."""
    with s.ours_writer.transaction():
        s.ours_writer.execute("UPDATE plans SET monthly_cents = 1 WHERE id = 2")
        s.ours_writer.execute("DELETE FROM plans WHERE id = 3")
        s.ours_writer.execute("INSERT INTO plans VALUES (4, 'extra', 7)")
    s.ours.execute(RESET)
    return [f"N = {s.n}, seeded rows changed: {p}" for p in left_behind(s.ours, WRITTEN)]


def truncate_tests(n: int, tests: int, cap: int | None) -> int:
    """How many tests TRUNCATE gets at N: all of them while few tables, 10 at 1,000."""
    return cap if cap is not None else max(10, min(tests, TRUNCATE_BUDGET // n))


def table(results: dict) -> str:
    sizes = sorted(results)
    base = results[sizes[0]]["three"]["median_ms"]

    def cell(n: int, key: str) -> str:
        got = results[n][key]
        extra = f" (×{got['tests']})" if key == "truncate" else ""
        return f"{got['median_ms']:.3f} / {got['p95_ms']:.3f}{extra}"

    lines = [
        f"| N tables (+ plans) | ours, nothing written | ours, three rows | DELETE every table "
        f"| TRUNCATE every table (tests) | ours ÷ ours at {sizes[0]} (three rows) "
        "| SELECT 1 (round trip) | three-row writes: with triggers / without |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for n in sizes:
        got = results[n]
        lines.append(
            f"| {n} | {cell(n, 'nothing')} | {cell(n, 'three')} | {cell(n, 'delete')} "
            f"| {cell(n, 'truncate')} | {got['three']['median_ms'] / base:.2f} "
            f"| {cell(n, 'floor')} | {got['writes_ours']['median_ms']:.3f} / "
            f"{got['writes_plain']['median_ms']:.3f} |"
        )
    return "\n".join(lines)


def targets(results: dict) -> list[dict]:
    out = []
    if 3 in results and 200 in results:
        ratio = results[200]["three"]["median_ms"] / results[3]["three"]["median_ms"]
        out.append({"target": f"our reset (three rows) at 200 tables ≤ {LIMIT_RATIO}× at 3",
                    "value": f"{ratio:.2f}×", "met": ratio <= LIMIT_RATIO})  # fmt: skip
        ratio = results[200]["nothing"]["median_ms"] / results[3]["nothing"]["median_ms"]
        out.append({"target": f"our reset (nothing written) at 200 tables ≤ {LIMIT_RATIO}× at 3",
                    "value": f"{ratio:.2f}×", "met": ratio <= LIMIT_RATIO})  # fmt: skip
    worst = max(results, key=lambda n: results[n]["nothing"]["median_ms"])
    ms = results[worst]["nothing"]["median_ms"]
    floor = results[worst]["floor"]["median_ms"]
    out.append({"target": f"a test that wrote nothing pays ≤ {LIMIT_NOTHING_MS} ms (median, "
                          "every N)",
                "value": f"{ms:.3f} ms (N = {worst}; the bare round trip, SELECT 1, "
                         f"{floor:.3f} ms there)",
                "met": ms <= LIMIT_NOTHING_MS})  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", type=int, nargs="+", default=[3, 50, 200, 1000])
    parser.add_argument("--tests", type=int, default=500, help="simulated tests per N")
    parser.add_argument(
        "--truncate-tests", type=int, help="TRUNCATE's tests per N (default: fewer as N grows)"
    )
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured tests first")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "reset.json")
    args = parser.parse_args(argv)
    sizes = sorted(set(args.tables))
    truncates = {n: truncate_tests(n, args.tests, args.truncate_tests) for n in sizes}

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    load_start = os.getloadavg()
    started = datetime.now(UTC)
    say(f"load average at start: {' '.join(f'{x:.2f}' for x in load_start)}")
    prefix = f"reset_bench_{os.getpid()}"
    with throwaway_server() as server:
        schemas: list[Schema] = []
        try:
            for n in sizes:
                begun = time.perf_counter()
                schemas.append(Schema(server, n, prefix))
                say(f"N = {n}: schema and reset installed in {time.perf_counter() - begun:.1f} s")
            version = schemas[0].ours.execute("SHOW server_version").fetchone()[0]
            results, problems = measure(schemas, args.tests, truncates, args.warmup, say)
        finally:
            for s in schemas:
                s.close()
    load_end = os.getloadavg()
    goals = targets(results)
    print(f"Reset cost per test (ms, median / p95 over {args.tests} tests; TRUNCATE over the "
          f"number shown), PostgreSQL {version}, {started:%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} cores, load average {load_start[0]:.2f} at start, "
          f"{load_end[0]:.2f} at end\n")  # fmt: skip
    print(table(results))
    print()
    for goal in goals:
        print(f"- {goal['target']}: {goal['value']}, met: {'yes' if goal['met'] else 'no'}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("isolated: " + ("no" if problems else "yes (every check passed)"))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({
        "started": started.isoformat(timespec="seconds"),
        "postgresql": version,
        "cores": os.cpu_count(),
        "load_average_at_start": load_start,
        "load_average_at_end": load_end,
        "tests": args.tests,
        "warmup": args.warmup,
        "truncate_tests": truncates,
        "reset": RESET,
        "results": results,
        "targets": goals,
        "problems": problems,
    }, indent=2) + "\n")  # fmt: skip
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
