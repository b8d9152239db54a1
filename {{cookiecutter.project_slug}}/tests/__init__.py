"""The test suite.

Tests hash passwords with Argon2 at its lowest cost, so that a login takes milliseconds
instead of hundreds of them. It is set here, before any test module imports the app's
settings; production refuses it (tests/test_settings.py).
"""

import os

os.environ["PASSWORD_HASH_COST"] = "minimal"
