"""What is undone after each test: what it wrote, and only that, back to the migrations' state.

Guarantee: after `RESET` (one statement, one round trip), every table of the schema holds
exactly the rows the migrations left in it (none, or the rows a data migration seeded),
whoever wrote since the last reset: the app, fixtures, raw SQL, a foreign key's cascade, a
TRUNCATE; seeded rows a test changed or deleted are back as they were. A test that wrote
nothing costs that one round trip; one that wrote costs what the tables it wrote take to
empty, however many tables the schema has. Rows of a transaction still open at the reset
(a session left uncommitted) are not seen: close sessions before the test ends.

How (reset.sql, in the schema `pytest_reset`): `install` gives every table a statement-level
trigger that records which table each statement wrote, and copies the rows the migrations
left; it runs once, in the migrated template, which every run's database is cloned from.
`RESET` empties the tables recorded, children first, and puts their seeded rows back.
Restoring seeds is exact for a superuser (the embedded server, a container); another user's
reset checks foreign keys as it goes, which a seeded row pointing at another could trip.
"""

import hashlib
from pathlib import Path

from sqlalchemy import Connection, inspect, text

MACHINERY = (Path(__file__).parent / "reset.sql").read_text(encoding="utf-8")
DIGEST = hashlib.sha256(MACHINERY.encode()).hexdigest()[:12]  # part of the template's key
RESET = "SELECT pytest_reset.reset()"


def install(connection: Connection) -> None:
    """Put every table of the migrated schema under the reset (once, in the template)."""
    connection.connection.cursor().execute(MACHINERY)  # psycopg's own: no placeholders
    names = [name for name, _ in inspect(connection).get_sorted_table_and_fkc_names() if name]
    connection.execute(text("SELECT pytest_reset.track_all(:names)"), {"names": names})
