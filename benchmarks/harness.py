"""The bare harness: what one API test costs with no test framework at all.

    python bench_harness.py sqlite ITERATIONS
    python bench_harness.py postgres ITERATIONS SERVER_URL

Copied into a baked project (as `bench_harness.py`, beside `app/` and `tests/`) and run by
the benchmark with the project's own virtualenv; standard library and the project's
dependencies only. Any strategy's bake will do: the factories and `bearer`
are the same in every one.

One event loop (`asyncio.run`), one engine with pooled connections for the whole run
(SQLite: in-memory, one connection held by `StaticPool`, as the strategy does; PostgreSQL:
asyncpg with SQLAlchemy's default pool, on a database of its own that it creates on the
server and drops at the end), the schema built once with `create_all`, one
`httpx2.AsyncClient` over `ASGITransport` with the app's `get_db` overridden to sessions
of that engine. Then, per iteration, what one generated bench test (benchmarks/suite.py)
does, minus pytest: the same count of every table's rows first (the tests' check that they
start from an empty database: none here either, or the harness stops), the same rows
committed through an `AsyncSession` with the project's own factories (tests/factories.py,
saving with that session), the same authenticated request (`bearer`), the three kinds of
test in turn, and every table emptied in one round trip.

Each iteration is timed with `perf_counter` (and `process_time`: this process's CPU time,
which other work on the machine hardly changes), after a few untimed warm-up iterations.
It prints one JSON object: {"database", "iterations_ms": [...], "iterations_cpu_ms":
[...], "startup_ms"}. It exits
non-zero if a response is not what the test expects.
"""

import asyncio
import contextlib
import json
import sys
import time
import uuid

import httpx2
from app.database import Base, get_db, session_factory
from app.main import app
from sqlalchemy import event, func, make_url, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool, StaticPool
from tests.factories import PatientFactory, SessionFactory, UserFactory, save_with
from tests.routers.conftest import bearer

WARM_UP = 3  # one of each kind of test: first requests, statement caches
# The generated tests' count of every table's rows (benchmarks/suite.py), in one query.
EVERY_ROW = select(
    *(select(func.count()).select_from(t).scalar_subquery() for t in Base.metadata.sorted_tables)
)
# Children first, so that no foreign key is ever violated.
DELETES = [f'DELETE FROM "{table.name}"' for table in reversed(Base.metadata.sorted_tables)]


def expect(response: httpx2.Response, check) -> None:
    if response.status_code != 200 or not check(response.json()):
        raise SystemExit(f"unexpected response: {response.status_code} {response.text[:500]}")


async def read_session(db, client, owner) -> None:
    patient = await PatientFactory.create_async(therapist_id=owner.id)
    session = await SessionFactory.create_async(**SessionFactory.of(patient))
    response = await client.get(f"/sessions/{session.id}", headers=bearer(owner))
    expect(response, lambda body: body["patient_id"] == str(patient.id))


async def list_patients(db, client, owner) -> None:
    emails = [f"p{i}@bench.test" for i in range(3)]
    patients = [
        await PatientFactory.create_async(therapist_id=owner.id, email=email) for email in emails
    ]
    response = await client.get("/patients", headers=bearer(owner))
    expect(
        response, lambda body: sorted(r["id"] for r in body) == sorted(str(p.id) for p in patients)
    )


async def patient_sessions(db, client, owner) -> None:
    patient = await PatientFactory.create_async(therapist_id=owner.id)
    for _ in range(2):
        await SessionFactory.create_async(**SessionFactory.of(patient))
    response = await client.get(f"/patients/{patient.id}/sessions", headers=bearer(owner))
    expect(response, lambda body: len(body) == 2)


TESTS = (read_session, list_patients, patient_sessions)  # as benchmarks/suite.py has them


def _sqlite_foreign_keys(dbapi_connection, _connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sqlite_engine():
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    event.listen(engine.sync_engine, "connect", _sqlite_foreign_keys)
    script = "\n".join(["BEGIN;", *(f"{d};" for d in DELETES), "COMMIT;"])

    async def empty_every_table() -> None:
        # One script, one transaction: aiosqlite's executescript, as the strategy does.
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            await raw.driver_connection.executescript(script)

    return engine, empty_every_table


def postgres_engine(database_url):
    engine = create_async_engine(database_url)  # SQLAlchemy's default pool
    script = "; ".join(DELETES)

    async def empty_every_table() -> None:
        # Several statements in one simple query (asyncpg's execute with no arguments):
        # one round trip, one implicit transaction.
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            await raw.driver_connection.execute(script)

    return engine, empty_every_table


@contextlib.asynccontextmanager
async def own_database(server: str):
    """A database of the harness's own on the server, dropped at the end."""
    server_url = make_url(server).set(drivername="postgresql+asyncpg")
    name = f"bench_harness_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.set(database=name)
    finally:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


async def run(engine: AsyncEngine, empty_every_table, iterations: int, started: float) -> dict:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    sessionmaker = session_factory(engine)

    async def get_test_db():
        async with sessionmaker() as session:
            yield session

    app.dependency_overrides[get_db] = get_test_db
    transport = httpx2.ASGITransport(app=app)
    timings, cpu_timings = [], []
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
        startup_ms = (time.perf_counter() - started) * 1000
        for i in range(-WARM_UP, iterations):
            start, start_cpu = time.perf_counter(), time.process_time()
            async with sessionmaker() as db:
                if rows := sum((await db.execute(EVERY_ROW)).one()):
                    raise SystemExit(f"{rows} rows left from the iteration before")
                save_with(db)
                owner = await UserFactory.create_async(email=f"{uuid.uuid4().hex}@bench.test")
                await TESTS[i % len(TESTS)](db, client, owner)
            await empty_every_table()
            if i >= 0:
                timings.append((time.perf_counter() - start) * 1000)
                cpu_timings.append((time.process_time() - start_cpu) * 1000)
    await engine.dispose()
    return {"iterations_ms": timings, "iterations_cpu_ms": cpu_timings, "startup_ms": startup_ms}


async def main(database: str, iterations: int, server: str | None) -> dict:
    started = time.perf_counter()
    if database == "sqlite":
        result = await run(*sqlite_engine(), iterations, started)
    else:
        async with own_database(server) as url:
            result = await run(*postgres_engine(url), iterations, started)
    return {"database": database, **result}


if __name__ == "__main__":
    kind, count, *url = sys.argv[1:]
    if kind not in ("sqlite", "postgres") or (kind == "postgres") != bool(url):
        sys.exit(__doc__.split("\n\n")[1])
    print(json.dumps(asyncio.run(main(kind, int(count), *url[:1] or [None]))))
