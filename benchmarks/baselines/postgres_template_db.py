"""Baseline (PostgreSQL): a fresh database per test, cloned from the migrated one with
`CREATE DATABASE … TEMPLATE`, and dropped after the test."""

import uuid

import pytest
from app.database import get_db, session_factory
from app.main import app
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool


@pytest.fixture(scope="session")
def admin(database_url, migrated_engine):
    migrated_engine.dispose()  # a template database must have no open connections
    engine = create_engine(
        database_url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with engine.connect() as admin:
        # FILE_COPY (PostgreSQL 15+) copies files; the default, WAL_LOG, is ~3× slower here.
        new = admin.scalar(text("SELECT current_setting('server_version_num')::int >= 150000"))
        admin.info["strategy"] = " STRATEGY FILE_COPY" if new else ""
        yield admin
    engine.dispose()


@pytest.fixture
def database(admin, database_url):
    name = f"{database_url.database}_{uuid.uuid4().hex[:8]}"
    template = f'"{database_url.database}"{admin.info["strategy"]}'
    admin.execute(text(f'CREATE DATABASE "{name}" TEMPLATE {template}'))
    engine = create_engine(database_url.set(database=name))
    yield engine
    engine.dispose()  # the test's connections, so that the database can be dropped
    admin.execute(text(f'DROP DATABASE "{name}"'))


@pytest.fixture
def client(database):
    engine = create_async_engine(
        database.url.set(drivername="postgresql+asyncpg"), poolclass=NullPool
    )
    sessionmaker = session_factory(engine)

    async def get_test_db():
        async with sessionmaker() as session:
            yield session

    app.dependency_overrides[get_db] = get_test_db
    with TestClient(app) as client:
        yield client
    del app.dependency_overrides[get_db]
