"""No isolation at all (all-async SQLite): the strategy's fixtures, with no reset between
tests."""

import pytest
from app.database import session_factory


@pytest.fixture
def sessionmaker(engine):
    return session_factory(engine)
