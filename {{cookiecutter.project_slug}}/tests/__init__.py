"""The test suite.

Tests hash passwords with Argon2 at its lowest cost, so that a login takes milliseconds
instead of hundreds of them. It is set here, before any test module imports the app's
settings; production refuses it (tests/test_settings.py).

Under pytest, Python's garbage collector is off from here (the first of this package that
pytest imports: the conftest's own imports come after) until the session starts, where
tests/heap.py freezes what the imports made and turns it back on. Imports make a great many
objects that all stay, and each full collection meanwhile walks every one of them: measured
here, about an eighth of a pytest process's start (0.1 s), paid by xdist's controller and by
every worker. A script that imports a helper from here (`python -m tests.parallel`) keeps it.
"""

import gc
import os
import sys

os.environ["PASSWORD_HASH_COST"] = "minimal"
if "pytest" in sys.modules:
    gc.disable()  # back on at the session's start (tests/heap.py)
