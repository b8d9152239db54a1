"""Baseline (all-async SQLite): drop every table and create them again after each test."""

import pytest
from app.database import Base, session_factory


@pytest.fixture
async def sessionmaker(engine):
    yield session_factory(engine)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.run_sync(Base.metadata.create_all)
