"""`python -m app.cli create-user`: the first user, from the command line.

The database work is tested on the migrated database (`migrated_engine`, from
tests/conftest.py) inside a transaction that is rolled back; the command's failures through
Click's test runner. The template's own tests run the whole command against PostgreSQL.
"""

import socket

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from app import cli
from app.auth.utils import verify_password
from app.config import Settings
from app.models.schemas import MIN_PASSWORD_LENGTH, UserRole

PASSWORD = "correct horse battery staple"


@pytest.fixture
def session(migrated_engine):
    """A session on the migrated database; everything it does is rolled back."""
    with migrated_engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection) as session:
            yield session
        transaction.rollback()


def test_add_therapist_makes_an_active_therapist_with_the_password(session):
    user = cli.add_therapist(session, cli.new_user("new@example.com", PASSWORD))

    assert (user.email, user.full_name) == ("new@example.com", "new")
    assert user.role == UserRole.therapist
    assert user.is_active
    assert verify_password(PASSWORD, user.hashed_password)


def test_an_email_is_taken_whatever_its_case(session):
    cli.add_therapist(session, cli.new_user("new@example.com", PASSWORD))

    with pytest.raises(cli.UserError, match="already exists"):
        cli.add_therapist(session, cli.new_user("NEW@example.com", PASSWORD))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def create_user(monkeypatch, email: str, password: str, database_url: str):
    """Run `create-user EMAIL` with the password on standard input."""
    settings = Settings(database_url=database_url, _env_file=None)
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    return CliRunner().invoke(cli.cli, ["create-user", email], input=f"{password}\n")


UNUSED_URL = "postgresql+asyncpg://postgres:s3cret-pw@127.0.0.1:1/app"


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", PASSWORD, "Error: email: value is not a valid email address"),
        ("new@example.com", "short", f"at least {MIN_PASSWORD_LENGTH} characters"),
        ("new@example.com", "", "Error: no password given on standard input"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_1(monkeypatch, email, password, message):
    result = create_user(monkeypatch, email, password, UNUSED_URL)

    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "Connect" not in result.stderr  # checked before any connection


def test_unreachable_database_is_one_line_naming_it_without_the_password(monkeypatch):
    port = closed_port()
    url = f"postgresql+asyncpg://postgres:s3cret-pw@127.0.0.1:{port}/service_db"

    result = create_user(monkeypatch, "new@example.com", PASSWORD, url)

    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: cannot connect to database 'service_db' on 127.0.0.1:{port}"
    )
    assert len(result.stderr.splitlines()) == 1
    assert "s3cret-pw" not in result.output + result.stderr


@pytest.mark.parametrize("args", [[], ["--help"], ["create-user", "--help"]])
def test_help_reads_cleanly(args):
    result = CliRunner().invoke(cli.cli, args, prog_name="python -m app.cli")

    assert result.output.startswith("Usage: python -m app.cli ")
    assert "create-user" in result.output
    # Placeholders in capitals (EMAIL, NAME), not `{email}` or `<bool>`; no description
    # cut short with "...".
    assert not set("{}<>") & set(result.output), result.output
    assert "..." not in result.output.replace("COMMAND [ARGS]...", "")


def test_create_user_usage_names_its_argument():
    result = CliRunner().invoke(cli.cli, ["create-user", "--help"], prog_name="python -m app.cli")

    assert result.exit_code == 0
    assert result.output.startswith("Usage: python -m app.cli create-user [OPTIONS] EMAIL\n")
    assert "--full-name NAME" in result.output
