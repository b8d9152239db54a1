"""Rows the API tests start from, built the way the seed's fixtures build them.

`test_db` (the fixtures' database session) and `client` (the HTTP client of the app under
test) come from `tests/conftest.py`: they are what the database-testing strategy decides.
"""

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from limits import parse
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.auth.utils import create_access_token, get_password_hash
from app.database import get_db, session_factory
from app.main import app
from app.models.db_models import Patient, Session, User
from app.models.schemas import UserRole
from app.routers.auth import login_limits
from tests.client_address import ClientAddress

PASSWORD = "testpass123"


@pytest.fixture(scope="session")
def password_hash() -> str:
    # Argon2 is slow on purpose: hash the shared test password once per run.
    return get_password_hash(PASSWORD)


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


async def add_row(test_db, row):
    test_db.add(row)
    await test_db.commit()
    await test_db.refresh(row)
    return row


def make_user(
    password_hash: str, email: str, full_name: str = "Test Therapist", is_active: bool = True
) -> User:
    return User(
        id=uuid.uuid4(),
        email=email,
        hashed_password=password_hash,
        full_name=full_name,
        role=UserRole.therapist,
        is_active=is_active,
    )


def make_patient(therapist_id: uuid.UUID, **fields) -> Patient:
    values = {"name": "Test Patient", "email": "patient@test.com", "phone": "+1234567890"}
    return Patient(id=uuid.uuid4(), therapist_id=therapist_id, **(values | fields))


def make_session(patient: Patient, **fields) -> Session:
    values = {
        "session_date": datetime.now(UTC),
        "status": "pending",
        "transcript_text": "Sample transcript",
    }
    return Session(
        id=uuid.uuid4(),
        patient_id=patient.id,
        therapist_id=patient.therapist_id,
        **(values | fields),
    )


def bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_access_token(user.id)}"}


@pytest.fixture
async def therapist_user(test_db, password_hash):
    return await add_row(test_db, make_user(password_hash, "therapist@test.com"))


@pytest.fixture
async def test_patient(test_db, therapist_user):
    return await add_row(test_db, make_patient(therapist_user.id))


@pytest.fixture
async def test_session(test_db, test_patient):
    return await add_row(test_db, make_session(test_patient))


@pytest.fixture
def auth_headers(therapist_user):
    return bearer(therapist_user)


# A second therapist, whose rows the first must never reach.
@pytest.fixture
async def other_therapist(test_db, password_hash):
    user = make_user(password_hash, "other@test.com", full_name="Other Therapist")
    return await add_row(test_db, user)


@pytest.fixture
async def other_patient(test_db, other_therapist):
    return await add_row(test_db, make_patient(other_therapist.id, name="Other Patient"))


@pytest.fixture
async def other_session(test_db, other_patient):
    return await add_row(test_db, make_session(other_patient))


@pytest.fixture
def other_auth_headers(other_therapist):
    return bearer(other_therapist)
