"""Helpers every router uses: owner-scoped lookups and conflict-safe commits."""

import uuid
from typing import Any, TypeVar

from fastapi import HTTPException, status
from pydantic import BaseModel
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import Base
from app.models.db_models import Patient, Session, User

# The `responses` of routes: extra answers their OpenAPI schema documents.
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"description": "Not found, or not yours"}}
CONFLICT: Responses = {409: {"description": "Conflicts with existing data"}}
UNAUTHORIZED: Responses = {401: {"description": "Missing, invalid or expired token"}}
# FastAPI answers 400 (not 422) to a body it cannot even decode, such as one not in UTF-8.
UNREADABLE_BODY: Responses = {400: {"description": "The body is not readable JSON"}}

# The models that belong to a therapist.
ModelT = TypeVar("ModelT", Patient, Session)


async def get_owned(
    db: AsyncSession, model: type[ModelT], row_id: uuid.UUID, owner: User
) -> ModelT:
    """The row with this id if the therapist owns it; 404 otherwise (never 403)."""
    row = await db.get(model, row_id)
    if row is None or row.therapist_id != owner.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{model.__name__} not found")
    return row


def apply_update(row: Base, update: BaseModel) -> None:
    """Set the fields the client sent. `null` clears a nullable column and leaves a
    required one as it is."""
    columns = inspect(type(row)).columns
    for field, value in update.model_dump(exclude_unset=True).items():
        if value is not None or columns[field].nullable:
            setattr(row, field, value)


def _is_unique_violation(error: IntegrityError) -> bool:
    driver_error = error.orig
    return (
        getattr(driver_error, "sqlstate", None) == "23505"  # PostgreSQL (asyncpg, psycopg)
        or getattr(driver_error, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_UNIQUE"
    )


async def commit_or_conflict(db: AsyncSession, message: str) -> None:
    """Commit the request's changes; a unique violation rolls all of them back: 409.

    Any other integrity error is a bug, and stays one (500, rolled back all the same)."""
    try:
        await db.commit()
    except IntegrityError as error:
        await db.rollback()
        if not _is_unique_violation(error):
            raise
        raise HTTPException(status.HTTP_409_CONFLICT, message) from None
