"""No isolation at all (shared session): the fixtures and the app still share one session,
but it commits for real and nothing is rolled back."""

import pytest
from sqlalchemy.ext.asyncio import AsyncSession


@pytest.fixture
async def test_db(engine):
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield session
