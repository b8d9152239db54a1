"""Rows the API tests start from, made by the factories of tests/factories.py.

`test_db` (the fixtures' database session) and `client` (the HTTP client of the app under
test) come from `tests/conftest.py`: they are what the database-testing strategy decides.
"""

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from limits import parse
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.auth.utils import create_access_token
from app.database import get_db, session_factory
from app.main import app
from app.models.db_models import User
from app.routers.auth import login_limits
from tests.client_address import ClientAddress
from tests.factories import PatientFactory, SessionFactory, UserFactory, save_with


@pytest.fixture(autouse=True)
def _factories_save_with_test_db(test_db):
    """The factories (tests/factories.py) save their rows with this test's `test_db`."""
    save_with(test_db)
    yield
    save_with(None)


@pytest.fixture
def now(time_machine) -> datetime:
    """The clock stops at this instant (a whole second) until the test moves it with
    `time_machine.shift(...)`: the app under test runs in this process and reads it too."""
    instant = datetime.now(UTC).replace(microsecond=0)
    time_machine.move_to(instant, tick=False)
    return instant


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    login_limits.reset()


@pytest.fixture
def small_login_limits(monkeypatch):
    """Budgets of 2 failures per client and 3 per account: spent with few slow Argon2 checks."""
    monkeypatch.setattr(login_limits, "per_client", parse("2/minute"))
    monkeypatch.setattr(login_limits, "per_account", parse("3/minute"))


@pytest.fixture
def client_address(monkeypatch) -> ClientAddress:
    """The client address of the next requests: set `client_address.host` to change it."""
    address = ClientAddress(app.build_middleware_stack(), host="192.0.2.1")
    monkeypatch.setattr(app, "middleware_stack", address)
    return address


@contextmanager
def _app_database_at(address: tuple[str, int]) -> Iterator[None]:
    """The app's requests get their sessions from a PostgreSQL at `address`, whatever the
    strategy gave it; the strategy's own database again afterwards."""
    host, port = address
    url = URL.create("postgresql+asyncpg", "app", "app", host, port, "app")
    sessionmaker = session_factory(create_async_engine(url, poolclass=NullPool))
    previous = app.dependency_overrides[get_db]
    app.dependency_overrides[get_db] = lambda: sessionmaker()
    try:
        yield
    finally:
        app.dependency_overrides[get_db] = previous


@pytest.fixture
def database_down(client) -> Iterator[None]:
    """The app's database is gone: its port refuses connections."""
    with socket.socket() as bound_only:  # bound, never listening: connections are refused
        bound_only.bind(("127.0.0.1", 0))
        with _app_database_at(bound_only.getsockname()):
            yield


@pytest.fixture
def database_silent(client) -> Iterator[None]:
    """The app's database hangs: it takes connections and never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel completes the handshake; nothing ever reads or writes
        with _app_database_at(silent.getsockname()):
            yield


def bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_access_token(user.id)}"}


@pytest.fixture
async def therapist_user():
    return await UserFactory.create_async(email="therapist@test.com")


@pytest.fixture
async def test_patient(therapist_user):
    return await PatientFactory.create_async(therapist_id=therapist_user.id, name="Test Patient")


@pytest.fixture
async def test_session(test_patient):
    return await SessionFactory.create_async(
        **SessionFactory.of(test_patient), transcript_text="Sample transcript"
    )


@pytest.fixture
def auth_headers(therapist_user):
    return bearer(therapist_user)


# A second therapist, whose rows the first must never reach.
@pytest.fixture
async def other_therapist():
    return await UserFactory.create_async(email="other@test.com")


@pytest.fixture
async def other_patient(other_therapist):
    return await PatientFactory.create_async(therapist_id=other_therapist.id, name="Other Patient")


@pytest.fixture
async def other_session(other_patient):
    return await SessionFactory.create_async(
        **SessionFactory.of(other_patient), transcript_text="Sample transcript"
    )


@pytest.fixture
def other_auth_headers(other_therapist):
    return bearer(other_therapist)
