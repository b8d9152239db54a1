"""pytest plugin the benchmark loads into a baked project (`-p bench_plugin`).

Standard library and pytest only: it runs in the project's own virtualenv. Set by the
environment:
  BENCH_OUT               folder for the results; each process writes `<worker>.json`
  BENCH_RESET_FIXTURE     the function-scoped fixture that isolates tests: the time of its
                          set-up plus its tear-down is the per-test isolation cost
  BENCH_STARTUP_FIXTURES  comma-separated session-scoped fixtures whose set-up is the
                          session start-up (database ready, schema built)

Fixture set-up times are exclusive: pytest sets up a fixture's own dependencies before
it calls `pytest_fixture_setup` for it. Which of the named fixtures ever ran is recorded
too, so that a name a strategy's conftest no longer has is noticed, not silently zero.

Every test's own cost, as pytest's durations report it: set-up plus call plus tear-down
(`pytest_runtest_logreport`), in ms per node id; and the CPU time of this process over the
test's whole protocol (`time.process_time`, which other work on the machine hardly
changes). Under xdist each worker records its own tests; the controller, which sees them
all again, records none.
"""

import json
import os
import time
from pathlib import Path

import pytest

RESET_FIXTURE = os.environ["BENCH_RESET_FIXTURE"]
STARTUP_FIXTURES = set(os.environ["BENCH_STARTUP_FIXTURES"].split(","))
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")

results = {
    "reset_ms": [],
    "startup_ms": 0.0,
    "rows_at_start": [],
    "rows_left": None,
    "test_ms": {},
    "test_cpu_ms": {},
    "fixtures_seen": [],
}
_reset_setup_ms: dict[str, float] = {}  # per test (node id), until its tear-down is timed
_teardown_started: dict[str, float] = {}


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    name = fixturedef.argname
    if name != RESET_FIXTURE and name not in STARTUP_FIXTURES:
        return (yield)
    if name not in results["fixtures_seen"]:
        results["fixtures_seen"].append(name)
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        elapsed = _ms_since(start)
        if name in STARTUP_FIXTURES:
            results["startup_ms"] += elapsed
        else:
            node = request.node.nodeid
            _reset_setup_ms[node] = elapsed
            # Finalizers run last-in first-out: this one runs just before the fixture's
            # own tear-down, and pytest_fixture_post_finalizer right after it.
            fixturedef.addfinalizer(
                lambda: _teardown_started.__setitem__(node, time.perf_counter())
            )


def pytest_fixture_post_finalizer(fixturedef, request):
    node = request.node.nodeid
    if fixturedef.argname == RESET_FIXTURE and node in _teardown_started:
        teardown_ms = _ms_since(_teardown_started.pop(node))
        results["reset_ms"].append(_reset_setup_ms.pop(node) + teardown_ms)


def pytest_runtest_logreport(report):
    if getattr(report, "node", None) is not None:
        return  # xdist's controller, handed a worker's report: the worker counted it
    test_ms = results["test_ms"]
    test_ms[report.nodeid] = test_ms.get(report.nodeid, 0.0) + report.duration * 1000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.process_time()
    try:
        return (yield)
    finally:
        results["test_cpu_ms"][item.nodeid] = (time.process_time() - start) * 1000


@pytest.fixture(scope="session")
def bench_record():
    """What the generated tests report: rows found when a test starts, rows left at the end."""

    class Record:
        @staticmethod
        def rows_at_start(count: int) -> None:
            results["rows_at_start"].append(count)

        @staticmethod
        def rows_left(count: int) -> None:
            results["rows_left"] = count

    return Record


def pytest_sessionfinish(session):
    out = Path(os.environ["BENCH_OUT"])
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{WORKER}.json").write_text(json.dumps(results))
