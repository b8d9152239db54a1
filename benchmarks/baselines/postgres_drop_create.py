"""Baseline (PostgreSQL): drop every table and create them again after each test."""

import pytest
from app.database import Base


@pytest.fixture
def database(migrated_engine):
    yield migrated_engine
    Base.metadata.drop_all(migrated_engine)
    Base.metadata.create_all(migrated_engine)
