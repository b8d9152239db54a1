"""Request and response models. Every input is bounded: lengths, formats, enums."""

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
)

MAX_TRANSCRIPT_CHARS = 100_000
MIN_PASSWORD_LENGTH = 12  # for new passwords; logins check any stored one


class UserRole(StrEnum):
    therapist = "therapist"
    admin = "admin"


class SessionStatus(StrEnum):
    pending = "pending"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


# Which status a session may move to from each status; the final ones allow none.
STATUS_TRANSITIONS: dict[SessionStatus, frozenset[SessionStatus]] = {
    SessionStatus.pending: frozenset({SessionStatus.in_progress, SessionStatus.cancelled}),
    SessionStatus.in_progress: frozenset({SessionStatus.completed, SessionStatus.cancelled}),
    SessionStatus.completed: frozenset(),
    SessionStatus.cancelled: frozenset(),
}


def _to_utc(value: datetime) -> datetime:
    # SQLite keeps no offset, so store UTC everywhere; read naive values back as UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:30-05:00 is in year 10000 in UTC
        raise ValueError("date and time out of range") from None


def _iso_8601(value: object) -> object:
    # Left to itself, pydantic also reads numbers and strings of digits as Unix timestamps
    # (0 becomes 1970-01-01): take what the schema says, an ISO 8601 date and time.
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value
    raise ValueError("must be an ISO 8601 date and time")


# No NUL characters: PostgreSQL cannot store them in text columns.
_NO_NUL = r"^[^\x00]*$"
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=_NO_NUL)
]
Password = Annotated[str, StringConstraints(min_length=1, max_length=128)]
NewPassword = Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=128)]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[1-9][0-9]{6,14}$")]
Transcript = Annotated[str, StringConstraints(max_length=MAX_TRANSCRIPT_CHARS, pattern=_NO_NUL)]
Email = Annotated[EmailStr, StringConstraints(max_length=320)]
UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]
InputDatetime = Annotated[AwareDatetime, BeforeValidator(_iso_8601), AfterValidator(_to_utc)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LoginRequest(Input):
    email: Email
    password: Password


class UserCreate(Input):
    email: Email
    password: NewPassword
    full_name: Name


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserRead(Output):
    id: uuid.UUID
    email: str
    full_name: str
    role: UserRole
    is_active: bool


class PatientCreate(Input):
    name: Name
    email: Email | None = None
    phone: Phone | None = None


class PatientUpdate(Input):
    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None


class PatientRead(Output):
    id: uuid.UUID
    name: str
    email: str | None
    phone: str | None
    therapist_id: uuid.UUID


class SessionCreate(Input):
    patient_id: uuid.UUID
    session_date: InputDatetime
    transcript_text: Transcript | None = None


class SessionUpdate(Input):
    session_date: InputDatetime | None = None
    status: SessionStatus | None = None
    transcript_text: Transcript | None = None


class SessionRead(Output):
    id: uuid.UUID
    patient_id: uuid.UUID
    therapist_id: uuid.UUID
    session_date: UtcDatetime
    status: SessionStatus
    transcript_text: str | None


class Page(BaseModel):
    """Query parameters for lists."""

    limit: int = Field(50, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10_000)
