"""What killed runs leave behind, removed only when it is provably ours and its owner gone.

Guarantee: `reap_databases` drops a database only if it carries the suite's mark
(databases.MARK, not merely a `pytest_…` name) and no live run holds its lock, and then
without force: anyone still connected keeps it. Killed runs' embedded servers go with
`reap_orphans` (tools/embedded_postgres.py, shared with the SQLite strategies' migration
round trip): a folder only if it holds an owner record this user wrote whose lock its owner
no longer holds (it ended), and only the server process that provably belongs to it. Every
other database, folder and process is left alone; a cleanup that fails is logged and left
for a later run.
"""

import logging

import psycopg

from tests.postgres import databases

log = logging.getLogger(__name__)


def reap_databases(admin: psycopg.Connection) -> list[str]:
    """Drop the marked databases of runs that died; the names dropped."""
    dropped = []
    for name in databases.marked_databases(admin):
        if not databases.try_lock(admin, name):
            continue  # a live run's
        try:
            databases.drop_database(admin, name)
            dropped.append(name)
        except psycopg.errors.ObjectInUse:
            log.warning("Left %s for a later run: someone is connected to it", name)
        finally:
            databases.unlock(admin, name)
    return dropped
