"""Helpers every router uses: owner-scoped lookups and conflict-safe commits."""

import uuid
from typing import TypeVar

from fastapi import HTTPException, status
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import Base
from app.models.db_models import User

NOT_FOUND = {404: {"description": "Not found, or not yours"}}
CONFLICT = {409: {"description": "Conflicts with existing data"}}
UNAUTHORIZED = {401: {"description": "Missing, invalid or expired token"}}
# FastAPI answers 400 (not 422) to a body it cannot even decode, such as one not in UTF-8.
UNREADABLE_BODY = {400: {"description": "The body is not readable JSON"}}

ModelT = TypeVar("ModelT", bound=Base)


async def get_owned(
    db: AsyncSession, model: type[ModelT], row_id: uuid.UUID, owner: User
) -> ModelT:
    """The row with this id if the therapist owns it; 404 otherwise (never 403)."""
    row = await db.get(model, row_id)
    if row is None or row.therapist_id != owner.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{model.__name__} not found")
    return row


async def commit_or_conflict(db: AsyncSession, message: str) -> None:
    """Commit the request's changes; a unique violation rolls all of them back: 409."""
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, message) from None
