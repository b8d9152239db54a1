"""Python's garbage collector, told to leave alone what every test keeps: everything alive
once the session starts (the app and its modules), and again once the tests are collected
(the tests, the fixtures' definitions), is frozen (`gc.freeze()`), so that no later
collection scans it again.

Every test allocates enough to trigger collections, and each full one would walk that whole
heap: measured here, freezing it takes about a sixth off a test's CPU time, and 0.2 s off
each pytest process's exit (xdist's controller and workers too). The collector is off while
pytest imports the conftests (tests/__init__.py turns it off): the first freeze is also where
it comes back on. What the tests' fixtures loaded since (drivers imported on first use, the
app's client) is frozen once more when the run ends, before Python's last collection at exit
would walk it. Objects frozen are still freed when their last reference goes; only reference
cycles among them stay (no collection runs first: it would cost more than the little garbage
it finds).

Loaded by `tests/conftest.py` (`pytest_plugins`); tests/test_heap.py checks that the collector
is on, the start-up's objects frozen, when a test runs.
"""

import gc

import pytest


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    gc.freeze()  # xdist's controller collects nothing: this is its only freeze
    gc.enable()  # off since tests/__init__.py


@pytest.hookimpl(trylast=True)  # after the other plugins' collection work
def pytest_collection_finish(session: pytest.Session) -> None:
    gc.freeze()


@pytest.hookimpl(trylast=True)  # the run is over: nothing is collected after this
def pytest_unconfigure(config: pytest.Config) -> None:
    gc.freeze()
