"""No isolation at all (PostgreSQL): the strategy's fixtures, with no reset between tests."""

import pytest


@pytest.fixture
def database(migrated_engine):
    return migrated_engine
