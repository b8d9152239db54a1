"""tests/heap.py and tests/__init__.py: the garbage collector, off while pytest starts, is on
again when a test runs, and what the start made is frozen; a script that imports this
package (not pytest) keeps it on throughout."""

import gc
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_garbage_collector_is_on_and_the_start_frozen():
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


def test_a_script_that_imports_the_tests_keeps_the_garbage_collector():
    script = "import gc, tests; raise SystemExit(0 if gc.isenabled() else 'collector off')"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True)

    assert result.returncode == 0, result.stderr
