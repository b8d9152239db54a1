"""The benchmark's quick mode (`python -m benchmarks.run --quick`: N = 50, one repeat) runs
to the end, and fails if any variant's reset leaves rows where it must not. Run here, beside
the other tests, it proves the benchmark still works; its figures mean nothing on a machine
this busy, and are not published. Only our strategies run (`--only ours`: serial and on two
workers), not the baselines or the shipped suites, which the other tests run many times over.
"""

import subprocess
import sys

from tests.baking import TEMPLATE, clean_env


def test_quick_benchmark_runs_and_every_reset_isolates():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--no-suites", "--only", "ours"],
        cwd=TEMPLATE,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=1200,
    )

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "Benchmark of" in done.stdout
    for strategy in ("postgres / ours", "postgres async / ours", "async sqlite / ours",
                     "shared session / ours"):  # fmt: skip
        assert f"-n 0 {strategy}: " in done.stdout + done.stderr, strategy
