"""What killed runs leave behind, removed only when it is provably ours and its owner gone.

Guarantee: `reap_databases` drops a database only if it carries the suite's mark
(databases.MARK, not merely a `pytest_…` name) and no live run holds its lock, and then
without force: anyone still connected keeps it. `reap_embedded_servers` deletes a folder
only if it holds an owner record this user wrote and its owner process is gone, and shuts
down only the server process that provably belongs to that folder
(tools/embedded_postgres.py: `orphaned`, `kill`). Every other database, folder and process is
left alone; a cleanup that fails is logged and left for a later run.
"""

import logging
import shutil
from pathlib import Path

import psycopg

from tests.postgres import databases
from tools.embedded_postgres import EmbeddedPostgres, orphaned

log = logging.getLogger(__name__)


def reap_databases(admin: psycopg.Connection) -> list[str]:
    """Drop the marked databases of runs that died; the names dropped."""
    dropped = []
    for name in databases.marked_databases(admin):
        if not databases.try_lock(admin, name):
            continue  # a live run's
        try:
            databases.drop(admin, name)
            dropped.append(name)
        except psycopg.errors.ObjectInUse:
            log.warning("Left %s for a later run: someone is connected to it", name)
        finally:
            databases.unlock(admin, name)
    return dropped


def reap_embedded_servers(parent: Path, prefix: str) -> list[Path]:
    """Stop and delete the embedded servers of runs that died; the folders deleted."""
    reaped = []
    for folder in parent.glob(f"{prefix}*"):
        if not orphaned(folder):
            continue  # a live run's, one being made, or not ours
        EmbeddedPostgres(folder).kill()
        try:
            shutil.rmtree(folder)
            reaped.append(folder)
        except OSError as exc:  # another run reaping it too, or a file we cannot delete
            log.warning("Could not delete %s: %s", folder, exc)
    return reaped
