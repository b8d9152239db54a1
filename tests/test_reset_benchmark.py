"""The reset benchmark (`python -m benchmarks.reset`, issue 18) at tiny sizes runs to the end
on the session's server, and fails if a reset leaves a row or loses a seeded one. Its
figures mean nothing here (30 tests, a busy machine); a few seconds."""

import json
import subprocess
import sys

import psycopg

from tests.baking import TEMPLATE, clean_env

TINY = "--tables 3 20 --tests 30 --truncate-tests 5 --warmup 2"


def test_reset_benchmark_runs_and_every_reset_isolates(postgres_url, tmp_path):
    output = tmp_path / "reset.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.reset", *TINY.split(), "--output", str(output)],
        cwd=TEMPLATE,
        env=clean_env({"TEST_DATABASE_URL": postgres_url}),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith(("| 3 |", "| 20 |"))]
    assert len(rows) == 2, done.stdout
    assert all(line.count("|") == 9 for line in rows), rows
    assert "isolated: yes" in done.stdout
    saved = json.loads(output.read_text())
    assert set(saved["results"]) == {"3", "20"}
    assert saved["problems"] == []
    with psycopg.connect(postgres_url) as admin:  # its databases are gone
        left = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'reset_bench%'")
        assert left.fetchall() == []
