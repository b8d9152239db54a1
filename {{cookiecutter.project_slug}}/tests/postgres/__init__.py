"""PostgreSQL for the tests: a server, and a database of this run's own on it.

Shared by the PostgreSQL strategies; each module holds one concern and states its guarantee:
- `server.py`: which server (TEST_DATABASE_URL, a Docker container, or an embedded one), and
  that it can be reached;
- `databases.py`: this run's own database, created, marked as the suite's, dropped;
- `reaper.py`: killed runs' databases, dropped only when they carry the suite's mark and
  their owner is gone (their embedded servers: `reap_orphans` in tools/embedded_postgres.py);
- `reset.py` (and `reset.sql`): what is undone after each test;
- `plugin.py`: the pytest hooks and fixtures that use them (`pytest_plugins` in conftest.py).
The embedded server itself is `tools/embedded_postgres.py`, which development tools share.
"""
