"""The baked PostgreSQL project, run for real and fuzzed with schemathesis.

The project is migrated (`alembic upgrade head`) into a new database on the throwaway
PostgreSQL and served by uvicorn on 127.0.0.1, in production mode with a random SECRET_KEY.
Two therapists are seeded, each with patients and sessions in every status. schemathesis
then runs against the OpenAPI schema with every check but the two in EXCLUDED_CHECKS, with
the first therapist's bearer token, the second one's for the object-level authorization
probes (the first one's objects must not reach them), and the seeded ids for path and body
parameters. Its JUnit report and console output go to `.ci/artifacts/` for CI to keep.

The login limits are raised on this server: at the defaults (5 failures a minute per client,
10 in 15 minutes per account) every login request after the fifth gets a 429, and
schemathesis would fuzz nothing but the limiter there.
"""

import json
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.baking import TEMPLATE, clean_env, installed_python
from tests.conftest import bake
from tests.serving import new_database, run_python, uvicorn

ARTIFACTS = TEMPLATE / ".ci" / "artifacts"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
MAX_EXAMPLES = 25  # per operation and phase: about 30 s for the whole run
EXCLUDED_CHECKS = (
    # The schema's `format: email` admits reserved domains (x@y.test) that the app's email
    # validator rightly refuses: that 422 is not a bug.
    "positive_data_acceptance",
    # Starlette answers 405 with the methods of the first route that matches the path, not
    # of every route on it (OPTIONS /patients: `Allow: POST`, not `GET, POST`).
    "allow_header_conformance",
)

# Run in the baked project's virtualenv, with the server's settings: two therapists, each
# with two patients and a session in every status; prints their tokens and ids as JSON.
SEED = """
import asyncio, json, uuid
from datetime import UTC, datetime, timedelta
from sqlalchemy.ext.asyncio import create_async_engine
from app.auth.utils import create_access_token, get_password_hash
from app.config import get_settings
from app.database import session_factory
from app.models import Patient, Session, User
from app.models.schemas import SessionStatus

async def seed():
    engine = create_async_engine(get_settings().database_url)
    password = get_password_hash("correct horse battery staple")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    seeded = {}
    async with session_factory(engine)() as db:
        for name in ("alice", "bob"):
            user = User(id=uuid.uuid4(), email=f"{name}@example.com", hashed_password=password,
                        full_name=name.title())
            patients = [Patient(id=uuid.uuid4(), therapist_id=user.id, name=f"Patient {n}",
                                email=f"patient{n}@example.com") for n in range(2)]
            sessions = [Session(id=uuid.uuid4(), patient_id=patient.id, therapist_id=user.id,
                                status=status, session_date=tomorrow)
                        for patient in patients for status in SessionStatus]
            for rows in ([user], patients, sessions):
                db.add_all(rows)
                await db.flush()
            seeded[name] = {
                "token": create_access_token(user.id),
                "patients": [str(row.id) for row in patients],
                "sessions": [str(row.id) for row in sessions],
            }
        await db.commit()
    await engine.dispose()
    print(json.dumps(seeded))

asyncio.run(seed())
"""


@pytest.fixture(scope="module")
def live_project(cookies_session) -> Path:
    return bake(cookies_session, project_slug="live-api", db_strategy="postgres_testcontainer")


@pytest.fixture(scope="module")
def database_url(postgres_url):
    """A new database on the throwaway server, as the app's URL (asyncpg); dropped after."""
    with new_database(postgres_url, "live") as url:
        yield url


@pytest.fixture(scope="module")
def live_server(live_project, database_url, tmp_path_factory):
    """The app under uvicorn, migrated and seeded: (base URL, seeded rows, server log)."""
    python = installed_python(live_project)
    env = clean_env(
        {
            "ENVIRONMENT": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
            "LOGIN_RATE_LIMIT": "10000/minute",
            "LOGIN_ACCOUNT_RATE_LIMIT": "10000/minute",
        }
    )
    run_python(python, live_project, env, "-m", "alembic", "upgrade", "head")
    seeded = json.loads(run_python(python, live_project, env, "-c", SEED))
    log = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    with uvicorn(python, live_project, env, log) as base_url:
        yield base_url, seeded, log


def write_config(folder: Path, seeded: dict) -> Path:
    """schemathesis.toml, and the Web Fuzzing Commons auth file it names: one bearer token
    per therapist, the first one's ids as likely values of path and body parameters."""
    auth = folder / "auth.json"
    users = [
        {
            "name": name,
            "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {row['token']}"}],
        }
        for name, row in seeded.items()
    ]
    auth.write_text(json.dumps({"auth": users}))
    alice = seeded["alice"]
    config = folder / "schemathesis.toml"
    config.write_text(f"""
[auth.wfc]
path = {json.dumps(str(auth))}
user = "alice"
peers = ["alice", "bob"]

[dictionaries.patient-ids]
values = {json.dumps(alice["patients"])}

[dictionaries.session-ids]
values = {json.dumps(alice["sessions"])}

[parameters]
"path.patient_id" = {{ dictionary = "patient-ids", probability = 0.5 }}
"body.patient_id" = {{ dictionary = "patient-ids", probability = 0.5 }}
"path.session_id" = {{ dictionary = "session-ids", probability = 0.5 }}
""")
    return config


def test_schemathesis_finds_no_failures(live_server, tmp_path):
    base_url, seeded, log = live_server
    config = write_config(tmp_path, seeded)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    junit = ARTIFACTS / "schemathesis-junit.xml"
    junit.unlink(missing_ok=True)

    command = [
        SCHEMATHESIS, "--config-file", config, "run", f"{base_url}/openapi.json",
        "--checks", "all", "--exclude-checks", ",".join(EXCLUDED_CHECKS),
        "--max-examples", str(MAX_EXAMPLES), "--request-timeout", "10",
        # One worker: with more, Python 3.11's `ast` fails in threads, inside hypothesis
        # ("AST constructor recursion depth mismatch").
        "--workers", "1",
        "--report", "junit", "--report-junit-path", junit, "--no-color",
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=600
    )
    output = done.stdout + done.stderr
    (ARTIFACTS / "schemathesis.txt").write_text(output)

    assert done.returncode == 0, output
    assert junit.is_file()
    server_log = log.read_text()
    assert "Traceback" not in server_log, server_log
