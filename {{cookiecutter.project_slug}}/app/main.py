"""The FastAPI application: `uvicorn app.main:app`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import get_settings
from app.database import session_factory
from app.ratelimit import warn_if_counted_per_process
from app.routers import auth, health, patients, sessions


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    warn_if_counted_per_process(get_settings())
    # The engine is made here, inside the server's event loop: asyncpg connections
    # belong to the loop that opened them.
    engine = create_async_engine(get_settings().database_url, pool_pre_ping=True)
    app.state.sessionmaker = session_factory(engine)
    yield
    await engine.dispose()


def create_app() -> FastAPI:
    get_settings()  # fail at start-up, not at the first request, on bad settings
    app = FastAPI(
        title={{ cookiecutter.project_name | tojson }},
        lifespan=lifespan,
    )
    app.include_router(auth.router)
    app.include_router(patients.router)
    app.include_router(sessions.router)
    app.include_router(health.router)
    return app


app = create_app()
