import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import Select, select

from app.auth.dependencies import CurrentUser
from app.database import DbSession
from app.models.db_models import Patient, Session
from app.models.schemas import (
    STATUS_TRANSITIONS,
    Page,
    SessionCreate,
    SessionRead,
    SessionStatus,
    SessionUpdate,
)
from app.routers.common import (
    CONFLICT,
    NOT_FOUND,
    UNAUTHORIZED,
    UNREADABLE_BODY,
    apply_update,
    get_owned,
)

router = APIRouter(tags=["sessions"], responses=UNAUTHORIZED)


@router.post(
    "/sessions", status_code=status.HTTP_201_CREATED, responses=NOT_FOUND | UNREADABLE_BODY
)
async def create_session(body: SessionCreate, db: DbSession, user: CurrentUser) -> SessionRead:
    await get_owned(db, Patient, body.patient_id, user)
    session = Session(**body.model_dump(), therapist_id=user.id)
    db.add(session)
    await db.commit()
    return SessionRead.model_validate(session)


@router.get("/sessions")
async def list_sessions(
    db: DbSession,
    user: CurrentUser,
    page: Annotated[Page, Query()],
    status_: Annotated[SessionStatus | None, Query(alias="status")] = None,
) -> list[SessionRead]:
    query = select(Session).where(Session.therapist_id == user.id)
    if status_ is not None:
        query = query.where(Session.status == status_)
    return await _page(db, query, page)


@router.get("/patients/{patient_id}/sessions", responses=NOT_FOUND)
async def list_patient_sessions(
    patient_id: uuid.UUID, db: DbSession, user: CurrentUser, page: Annotated[Page, Query()]
) -> list[SessionRead]:
    patient = await get_owned(db, Patient, patient_id, user)
    return await _page(db, select(Session).where(Session.patient_id == patient.id), page)


@router.get("/sessions/{session_id}", responses=NOT_FOUND)
async def read_session(session_id: uuid.UUID, db: DbSession, user: CurrentUser) -> SessionRead:
    return SessionRead.model_validate(await get_owned(db, Session, session_id, user))


@router.patch("/sessions/{session_id}", responses=NOT_FOUND | CONFLICT | UNREADABLE_BODY)
async def update_session(
    session_id: uuid.UUID, body: SessionUpdate, db: DbSession, user: CurrentUser
) -> SessionRead:
    session = await get_owned(db, Session, session_id, user)
    new_status = body.status
    allowed = STATUS_TRANSITIONS[session.status] | {session.status}  # or staying as it is
    if new_status is not None and new_status not in allowed:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"A session that is {session.status.value} cannot become {new_status.value}",
        )
    apply_update(session, body)
    await db.commit()
    return SessionRead.model_validate(session)


@router.delete(
    "/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND
)
async def delete_session(session_id: uuid.UUID, db: DbSession, user: CurrentUser) -> None:
    await db.delete(await get_owned(db, Session, session_id, user))
    await db.commit()


async def _page(db: DbSession, query: Select[Session], page: Page) -> list[SessionRead]:
    query = query.order_by(Session.session_date, Session.id).limit(page.limit).offset(page.offset)
    return [SessionRead.model_validate(row) for row in await db.scalars(query)]
