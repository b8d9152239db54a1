"""Liveness and readiness, for load balancers and orchestrators.

`GET /health` answers as long as the process serves requests: a liveness probe, which
must not fail because a dependency did (restarting the app would not bring the database
back). `GET /health/ready` also asks the database: a readiness probe, so that traffic only
goes to a process that can serve it.
"""

import asyncio
import logging

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.database import DbSession, connection_error

router = APIRouter(prefix="/health", tags=["health"])
logger = logging.getLogger(__name__)

# The whole check (a pooled connection, or a new one, and `SELECT 1`) gets this long: a
# database that hangs makes the app unready in about a second, not after a TCP timeout.
DATABASE_TIMEOUT_SECONDS = 1.0


@router.get("")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    responses={503: {"description": "The database cannot be reached; `detail` says why"}},
)
async def ready(db: DbSession) -> dict[str, str]:
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
            await db.execute(text("SELECT 1"))
    except TimeoutError:
        reason = f"database did not answer within {DATABASE_TIMEOUT_SECONDS:g} s"
        logger.warning("Not ready: %s", reason)
    except (OSError, DBAPIError) as error:
        # The log names the database and the driver's reason; the answer, which anyone who
        # can reach the app reads, does not.
        logger.warning("Not ready: %s", connection_error(db.get_bind().engine.url, error))
        reason = f"database unreachable ({type(getattr(error, 'orig', error)).__name__})"
    else:
        return {"status": "ready"}
    raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, reason)
