"""What is undone after each test that used the database: every table is emptied.

Children first, so that no foreign key is ever violated; sent as one statement (one round
trip). DELETE, not TRUNCATE: a test leaves a handful of rows, which DELETE removes in well
under a millisecond, where TRUNCATE makes new files for every table and index (5-20 ms).
"""

from app.database import Base

EMPTY_EVERY_TABLE = "; ".join(
    f'DELETE FROM "{table.name}"' for table in reversed(Base.metadata.sorted_tables)
)
