"""Command line tasks: `python -m app.cli --help`.

`create-user EMAIL` adds an active therapist who can log in at once. The password comes
from a hidden prompt, or from standard input when that is not a terminal, so it scripts:

    printf '%s\\n' "$PASSWORD" | python -m app.cli create-user you@example.com

Every failure, a bad setting included, is one line on standard error and exit status 1.
"""

import asyncio
import sys

import click
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app.auth.utils import get_password_hash
from app.config import get_settings
from app.database import connection_error
from app.models import User
from app.models.schemas import UserCreate, UserRole


class UserError(Exception):
    """Why a user cannot be created, in one line."""


def new_user(email: str, password: str, full_name: str = "") -> UserCreate:
    """The user's fields, checked as the API checks them (app/models/schemas.py)."""
    try:
        return UserCreate(
            email=email, password=password, full_name=full_name or email.partition("@")[0]
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        raise UserError(f"{error['loc'][0]}: {error['msg']}") from None


def add_therapist(session: Session, new: UserCreate) -> User:
    """Add an active therapist to the session, flushed but not committed.

    Plain (sync) ORM code: the command runs it with `AsyncSession.run_sync`, and tests can
    call it with any session.
    """
    if session.scalar(select(User.id).where(func.lower(User.email) == new.email.lower())):
        raise UserError(f"a user with the email {new.email} already exists")
    user = User(
        email=new.email,
        hashed_password=get_password_hash(new.password),
        full_name=new.full_name,
        role=UserRole.therapist,
        is_active=True,
    )
    session.add(user)
    session.flush()
    return user


async def create_user(database_url: str, new: UserCreate) -> User:
    """Add the therapist to the database at `database_url` and commit."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        try:
            connection = await engine.connect()
        except (OSError, DBAPIError) as exc:
            raise UserError(connection_error(database_url, exc)) from None
        try:
            async with AsyncSession(connection, expire_on_commit=False) as session:
                user = await session.run_sync(add_therapist, new)
                await session.commit()
        except IntegrityError:  # the same email, added in the meantime
            raise UserError(f"a user with the email {new.email} already exists") from None
        except DBAPIError as exc:  # most likely no tables yet
            reason = str(exc.orig).strip().splitlines()[0]
            raise UserError(f"{reason} (has `alembic upgrade head` run?)") from None
        finally:
            await connection.close()
        return user
    finally:
        await engine.dispose()


def read_password() -> str:
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UserError("no password given on standard input")
    return password


@click.group()
def cli() -> None:
    """Tasks for this service, on the database DATABASE_URL names (environment or .env)."""


@cli.command("create-user", short_help="Create a therapist who can log in at once.")
@click.argument("email")
@click.option(
    "--full-name",
    metavar="NAME",
    default="",
    help="Name shown in the app [default: the part of EMAIL before the @]",
)
def create_user_command(email: str, full_name: str) -> None:
    """Create an active therapist who logs in with EMAIL and a password.

    The password is asked for twice, or read from standard input when that is not a
    terminal.
    """
    database_url = get_settings().database_url  # bad settings end the command here
    try:
        new = new_user(email, read_password(), full_name)
        user = asyncio.run(create_user(database_url, new))
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created therapist {user.email} (id {user.id}).")


if __name__ == "__main__":
    cli(prog_name="python -m app.cli")
