"""Baseline (PostgreSQL): drop every table and create them again after each test."""

import pytest
from app.database import Base


@pytest.fixture
def database(sync_engine):
    yield sync_engine
    Base.metadata.drop_all(sync_engine)
    Base.metadata.create_all(sync_engine)
