"""The migrations build exactly the schema the models describe.

`migrated_engine` (from tests/conftest.py) is a database built by `alembic upgrade head`
alone. If this fails after a model change, add a migration:
    alembic revision --autogenerate -m "describe the change"
"""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from app.database import Base
from tests.migrations import alembic_config


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
