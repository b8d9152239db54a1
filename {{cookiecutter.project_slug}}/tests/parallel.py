"""How many xdist workers `pytest -n auto` starts, and how many shards CI runs: only as many
as the recorded durations (.test_durations) can pay for.

A worker is a new Python process that imports the app and gets its own database: about a
second before its first test, on top of the run's own start. Below SECONDS_PER_WORKER of
recorded tests per worker, the run is faster serial, so `-n auto` starts no worker at all
(0: pytest runs in-process) until the suite has 2 × SECONDS_PER_WORKER of tests, then one
per SECONDS_PER_WORKER, at most one per CPU. A CI shard is a whole runner (checkout, Python,
`uv sync`: about a minute), so CI runs one shard per SECONDS_PER_SHARD of recorded tests,
at least one. Refresh .test_durations after adding tests (README: "Sharding").

Loaded by `tests/conftest.py` (`pytest_plugins`); `python -m tests.parallel shards` prints
CI's shard list (`[1]`, `[1, 2]`, ...). Standard library only: CI runs it before installing.
"""

import json
import os
import sys
from pathlib import Path

DURATIONS = Path(__file__).resolve().parents[1] / ".test_durations"
SECONDS_PER_WORKER = 8.0  # measured: -n 2 beats serial from about 16 s of tests (README)
SECONDS_PER_SHARD = 300.0
MAX_SHARDS = 8


def recorded_seconds(path: Path = DURATIONS) -> float:
    """The suite's recorded duration; 0 when there is no readable record."""
    try:
        return float(sum(json.loads(path.read_text()).values()))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0.0


def workers(seconds: float, cpus: int) -> int:
    """xdist workers worth starting for `seconds` of tests: 0 (serial) or 2..cpus."""
    count = min(cpus, int(seconds // SECONDS_PER_WORKER))
    return count if count >= 2 else 0


def shards(seconds: float) -> int:
    return max(1, min(MAX_SHARDS, int(seconds // SECONDS_PER_SHARD) + 1))


def pytest_xdist_auto_num_workers(config) -> int:
    """What `-n auto` means here (`-n logical` too); `-n 4` is taken as given."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return workers(recorded_seconds(), cpus or 1)


if __name__ == "__main__":
    if sys.argv[1:] != ["shards"]:
        sys.exit("usage: python -m tests.parallel shards")
    print(json.dumps(list(range(1, shards(recorded_seconds()) + 1))))
