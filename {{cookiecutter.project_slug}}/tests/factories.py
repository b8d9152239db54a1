"""Test rows from polyfactory's SQLAlchemy factories: one factory per model.

A factory fills in every column a test does not name, with values the model accepts, and
saves the row with the session the tests' fixtures use (`test_db`): tests/routers/conftest.py
hands it over before each test (`save_with`). Async tests create rows with
`await UserFactory.create_async(email=...)`; where the tests are sync (postgres_testcontainer)
the same line reads `UserFactory.create_sync(email=...)`. Either one commits, as the app
would, and returns the saved row. `UserFactory.build()` makes a row without saving it.

Foreign keys are never made up: a `Require()` field must be given (`therapist_id=user.id`).
Adding a model: a factory here, like the ones below (README: "Test data").
"""

import itertools
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from polyfactory import Require, Use
from polyfactory.factories.sqlalchemy_factory import SQLAlchemyFactory
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as DatabaseSession

from app.auth.utils import get_password_hash
from app.models.db_models import Patient, Session, User
from app.models.schemas import SessionStatus, UserRole

PASSWORD = "testpass123"  # every factory-made user's password

T = TypeVar("T")
_numbers = itertools.count(1)


def unique_email(kind: str) -> str:
    """An address no other row of this run has: `therapist7@example.com`."""
    return f"{kind}{next(_numbers)}@example.com"


@cache
def password_hash() -> str:
    # Argon2 is slow on purpose (tests/__init__.py makes it cheaper): hash PASSWORD once.
    return get_password_hash(PASSWORD)


class Factory(SQLAlchemyFactory[T]):
    """What every factory here shares: the session it saves with, set by `save_with`."""

    __is_base_factory__ = True
    # Related rows are made by their own factory and named by their key, never invented.
    __set_relationships__ = False
    # A factory field the model does not have (a typo, a renamed column) is an error.
    __check_model__ = True


def save_with(session: DatabaseSession | AsyncSession | None) -> None:
    """Every factory saves with `session` from now on (`None`: with nothing)."""
    Factory.__async_session__ = session if isinstance(session, AsyncSession) else None
    Factory.__session__ = session if isinstance(session, DatabaseSession) else None


class UserFactory(Factory[User]):
    email = Use(unique_email, "therapist")
    hashed_password = Use(password_hash)
    full_name = Use(lambda: UserFactory.__faker__.name())
    role = UserRole.therapist
    is_active = True


class PatientFactory(Factory[Patient]):
    therapist_id = Require()
    name = Use(lambda: PatientFactory.__faker__.name())
    email = Use(unique_email, "patient")
    phone = Use(lambda: f"+1555{PatientFactory.__random__.randrange(10**7):07d}")


class SessionFactory(Factory[Session]):
    patient_id = Require()
    therapist_id = Require()  # the patient's therapist: `**SessionFactory.of(patient)`
    session_date = Use(lambda: datetime.now(UTC))
    status = SessionStatus.pending
    transcript_text = Use(lambda: SessionFactory.__faker__.paragraph())

    @staticmethod
    def of(patient: Patient) -> dict[str, Any]:
        """The keys of a session of `patient`, with the therapist it belongs to."""
        return {"patient_id": patient.id, "therapist_id": patient.therapist_id}
