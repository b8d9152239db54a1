import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import select

from app.auth.dependencies import CurrentUser
from app.database import DbSession
from app.models.db_models import Patient
from app.models.schemas import Page, PatientCreate, PatientRead, PatientUpdate
from app.routers.common import (
    CONFLICT,
    NOT_FOUND,
    UNAUTHORIZED,
    UNREADABLE_BODY,
    apply_update,
    commit_or_conflict,
    get_owned,
)

router = APIRouter(prefix="/patients", tags=["patients"], responses=UNAUTHORIZED)
DUPLICATE_EMAIL = "You already have a patient with this email"


@router.post("", status_code=status.HTTP_201_CREATED, responses=CONFLICT | UNREADABLE_BODY)
async def create_patient(body: PatientCreate, db: DbSession, user: CurrentUser) -> PatientRead:
    patient = Patient(**body.model_dump(), therapist_id=user.id)
    db.add(patient)
    await commit_or_conflict(db, DUPLICATE_EMAIL)
    return PatientRead.model_validate(patient)


@router.get("")
async def list_patients(
    db: DbSession, user: CurrentUser, page: Annotated[Page, Query()]
) -> list[PatientRead]:
    rows = await db.scalars(
        select(Patient)
        .where(Patient.therapist_id == user.id)
        .order_by(Patient.name, Patient.id)
        .limit(page.limit)
        .offset(page.offset)
    )
    return [PatientRead.model_validate(row) for row in rows]


@router.get("/{patient_id}", responses=NOT_FOUND)
async def read_patient(patient_id: uuid.UUID, db: DbSession, user: CurrentUser) -> PatientRead:
    return PatientRead.model_validate(await get_owned(db, Patient, patient_id, user))


@router.patch("/{patient_id}", responses=NOT_FOUND | CONFLICT | UNREADABLE_BODY)
async def update_patient(
    patient_id: uuid.UUID, body: PatientUpdate, db: DbSession, user: CurrentUser
) -> PatientRead:
    patient = await get_owned(db, Patient, patient_id, user)
    apply_update(patient, body)
    await commit_or_conflict(db, DUPLICATE_EMAIL)
    return PatientRead.model_validate(patient)


@router.delete("/{patient_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
async def delete_patient(patient_id: uuid.UUID, db: DbSession, user: CurrentUser) -> None:
    await db.delete(await get_owned(db, Patient, patient_id, user))
    await db.commit()
