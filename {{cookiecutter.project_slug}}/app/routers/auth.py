from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import func, select

from app.auth.dependencies import CurrentUser
from app.auth.utils import create_access_token, verify_password
from app.config import get_settings
from app.database import DbSession
from app.models.db_models import User
from app.models.schemas import LoginRequest, Token, UserRead
from app.ratelimit import LoginLimits
from app.routers.common import UNREADABLE_BODY

router = APIRouter(prefix="/auth", tags=["auth"])
login_limits = LoginLimits.from_settings(get_settings())


@router.post(
    "/login",
    responses={
        **UNREADABLE_BODY,
        401: {"description": "Wrong email or password"},
        429: {"description": "Too many failed logins from this client or for this account"},
    },
)
async def login(body: LoginRequest, request: Request, db: DbSession) -> Token:
    # Checked before the password, so that a spent budget says nothing about it.
    client = request.client.host if request.client else "unknown"
    await login_limits.check(client, body.email)
    user = await db.scalar(select(User).where(func.lower(User.email) == body.email.lower()))
    # Argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    password_ok = await run_in_threadpool(
        verify_password, body.password, user.hashed_password if user else None
    )
    if user is None or not password_ok or not user.is_active:
        await login_limits.count_failure(client, body.email)
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect email or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Token(access_token=create_access_token(user.id))


@router.get("/me", responses={401: {"description": "Not authenticated"}})
async def read_me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)
