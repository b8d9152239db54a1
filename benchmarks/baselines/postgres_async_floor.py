"""Floor (PostgreSQL, all async): the same tests with no isolation at all; rows pile up."""

import pytest


@pytest.fixture
async def database(fixtures_engine):
    return fixtures_engine
