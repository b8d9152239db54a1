"""Baseline (PostgreSQL): the seed guide's own fixtures (shared/seed-fix-guide.md,
Solution #1), as written except where this machine forces a change:

- no Docker: `postgres_container` is this run's own database on the benchmark's server
  (the strategy's `database_url` fixture), where the guide starts a container;
- the sync driver is psycopg (3), where the guide's URL means psycopg2;
- `TestClient` is imported: the guide uses it without importing it.

The fixtures commit and `test_db` then rolls back nothing: rows stay from one test to the
next. The guide's data fixtures (`therapist_user`, …) are not used: the generated tests
make their own rows, with unique e-mail addresses, so that the leak is counted rather than
crashing every test after the first.
"""

import pytest
import pytest_asyncio
from app.database import Base, get_db
from app.main import app
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

# Global container for test session
_postgres_container = None
_test_db_url = None
_test_async_db_url = None


@pytest.fixture(scope="session")
def postgres_container(database_url):
    """Start PostgreSQL container for all tests"""
    global _postgres_container, _test_db_url, _test_async_db_url

    _postgres_container = database_url

    # Get connection strings
    _test_db_url = database_url.render_as_string(hide_password=False)
    _test_async_db_url = _test_db_url.replace("postgresql+psycopg://", "postgresql+asyncpg://")

    yield _postgres_container


@pytest.fixture(scope="session")
def test_sync_engine(postgres_container):
    """Create synchronous engine for fixtures"""
    engine = create_engine(_test_db_url)
    Base.metadata.create_all(bind=engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def test_async_engine(postgres_container):
    """Create asynchronous engine for TestClient"""
    engine = create_async_engine(_test_async_db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="function")
def test_db(test_sync_engine):
    """Provide synchronous session for fixtures"""
    SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=test_sync_engine)
    session = SessionLocal()
    yield session
    session.rollback()
    session.close()


@pytest_asyncio.fixture(scope="function")
async def test_async_db(test_async_engine):
    """Provide asynchronous session for TestClient"""
    AsyncSessionLocal = async_sessionmaker(
        test_async_engine, class_=AsyncSession, expire_on_commit=False
    )
    async with AsyncSessionLocal() as session:
        yield session


@pytest.fixture(scope="function")
def client(test_async_db):
    """TestClient with overridden DB dependency"""

    async def override_get_db():
        yield test_async_db

    app.dependency_overrides[get_db] = override_get_db

    with TestClient(app) as test_client:
        yield test_client

    app.dependency_overrides.clear()
