"""The migrations build exactly the schema the models describe, and every one of them can
be undone and done again.

`migrated_engine` (from tests/conftest.py) is a database built by `alembic upgrade head`
alone. If the models and migrations disagree after a model change, add a migration:
    alembic revision --autogenerate -m "describe the change"
and check its `downgrade()`: autogenerate writes one, which misses what it cannot see
(enum types, data). `empty_postgres` is an empty PostgreSQL database, for the round trip.
"""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.database import Base
from tests.migrations import alembic_config, schema


def test_database_is_at_the_latest_migration(migrated_engine):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()

    with migrated_engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()

    assert current == head


def test_migrations_match_the_models(migrated_engine):
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    assert differences == [], "models and migrations disagree: add a migration"


def test_every_migration_goes_up_down_and_up_again(empty_postgres):
    """Each revision, oldest first: its downgrade restores the schema it started from, and
    upgrading again builds the same schema as the first time. Back at base, no table is
    left (Alembic's own aside)."""
    revisions = ScriptDirectory.from_config(alembic_config()).walk_revisions()
    with empty_postgres.connect() as connection:
        config = alembic_config(connection)
        for revision in reversed(list(revisions)):
            before = schema(connection)
            command.upgrade(config, revision.revision)
            after = schema(connection)
            command.downgrade(config, "-1")
            left = {name: found for name, found in schema(connection).items() if name not in before}
            assert left == {}, f"downgrade of {revision.revision} leaves {left}"
            assert schema(connection) == before, f"downgrade of {revision.revision}"
            command.upgrade(config, revision.revision)
            assert schema(connection) == after, f"{revision.revision} again"

        command.downgrade(config, "base")
        assert schema(connection) == {}, "downgrade to base leaves these behind"
