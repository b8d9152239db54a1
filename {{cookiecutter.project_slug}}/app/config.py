"""Application settings, read from the environment and from `.env`.

Every setting is checked when the settings are loaded. `get_settings()` turns a bad one into
a `SettingsError`: one line per bad setting, naming it and the form it expects (its field's
description), never its value. The app, Alembic and the CLI all load the settings through
it, so each of them stops with those lines and exit status 1, not a traceback.
"""

import secrets
import warnings
from functools import lru_cache
from typing import Annotated, Literal
from urllib.parse import urlsplit

from limits import parse
from limits.storage import SCHEMES, MovingWindowSupport  # type: ignore[attr-defined]  # below
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

# Values copied from examples: never acceptable as a real signing key.
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "secret-key"})
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """Each field is read from the variable of its name in capitals; its description is the
    form a bad value is told to take."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Annotated[
        Literal["development", "test", "production"],
        Field(description="one of development, test, production"),
    ] = "development"
    database_url: Annotated[
        str,
        Field(
            description="an async SQLAlchemy URL such as "
            "postgresql+asyncpg://USER:PASSWORD@HOST:5432/NAME"
        ),
    ] = "postgresql+asyncpg://postgres:postgres@localhost:5432/app"
    secret_key: Annotated[
        SecretStr,
        Field(description=f"a random value of at least {MIN_SECRET_LENGTH} characters"),
    ] = SecretStr("")  # none: a random one outside production (below)
    access_token_expire_minutes: Annotated[
        int, Field(gt=0, description="a whole number of minutes, 1 or more")
    ] = 30
    # Failed logins allowed in a moving window ("5/minute", "10/15 minutes"): per client
    # address, and per account (email). Counted where RATE_LIMIT_STORAGE_URL says:
    # memory:// (each process on its own) or redis://host:6379/0 (shared by all).
    login_rate_limit: Annotated[
        str, Field(description="a rate such as 5/minute or 10/15 minutes")
    ] = "5/minute"
    login_account_rate_limit: Annotated[
        str, Field(description="a rate such as 5/minute or 10/15 minutes")
    ] = "10/15 minutes"
    rate_limit_storage_url: Annotated[
        str,
        Field(description="memory:// or a Redis URL such as redis://HOST:6379/0"),
    ] = "memory://"
    # "minimal": Argon2 at its lowest cost, so that tests log in in milliseconds. Never in
    # production, where passwords are hashed with pwdlib's recommended parameters.
    password_hash_cost: Annotated[
        Literal["standard", "minimal"],
        Field(description="standard, or minimal (tests only)"),
    ] = "standard"

    @field_validator("database_url")
    @classmethod
    def _an_async_database_url(cls, value: str) -> str:
        try:
            usable = make_url(value).get_dialect().is_async
        except (SQLAlchemyError, ValueError, ImportError):  # not a URL, no such dialect
            usable = False
        if not usable:
            raise ValueError("not an async SQLAlchemy URL")
        return value

    @field_validator("secret_key", mode="before")
    @classmethod
    def _none_is_no_secret(cls, value: object) -> object:
        return "" if value is None else value

    @field_validator("login_rate_limit", "login_account_rate_limit")
    @classmethod
    def _parse_as_a_rate(cls, value: str) -> str:
        parse(value)  # ValueError on anything `limits` cannot read
        return value

    @field_validator("rate_limit_storage_url")
    @classmethod
    def _a_storage_with_moving_windows(cls, value: str) -> str:
        url = urlsplit(value)
        _ = url.port  # ValueError on a port that is not a number
        # SCHEMES: the storages `limits.storage.storage_from_string` knows, by URL scheme.
        # (`limits.storage` does not list it in `__all__`, so strict mypy calls it private:
        # hence the `type: ignore[attr-defined]` on its import.)
        storage = SCHEMES.get(url.scheme)
        if storage is None or not issubclass(storage, MovingWindowSupport):
            raise ValueError("not a storage with moving windows")
        return value

    @model_validator(mode="after")
    def _refuse_weak_hashing_in_production(self) -> "Settings":
        if self.environment == "production" and self.password_hash_cost != "standard":
            raise ValueError("PASSWORD_HASH_COST must be standard in production")
        return self

    @model_validator(mode="after")
    def _require_a_real_secret(self) -> "Settings":
        key = self.secret_key.get_secret_value()
        usable = key not in PLACEHOLDER_SECRETS and len(key) >= MIN_SECRET_LENGTH
        if usable:
            return self
        if self.environment == "production":
            raise ValueError(
                f"SECRET_KEY must be set to a random value of at least "
                f"{MIN_SECRET_LENGTH} characters in production"
            )
        # Outside production a missing key gets a random one for this process only:
        # tokens stop working on restart, and nobody can forge them.
        if key:
            warnings.warn("SECRET_KEY is a placeholder; using a random key", stacklevel=2)
        self.secret_key = SecretStr(secrets.token_urlsafe(MIN_SECRET_LENGTH))
        return self


class SettingsError(SystemExit):
    """Settings that cannot be used: `Error: NAME must be …`, one line per bad setting.

    A `SystemExit`, so that whatever loads the settings (uvicorn importing the app, Alembic,
    the CLI) ends with these lines on standard error and exit status 1, without a traceback.
    The lines never hold a value: pydantic's own messages can (a password in a URL, the key).
    """

    def __init__(self, error: ValidationError) -> None:
        lines = dict.fromkeys(describe(details) for details in error.errors(include_input=False))
        super().__init__("\n".join(f"Error: {line}" for line in lines))


def describe(error: ErrorDetails) -> str:
    """One bad setting: its name and the form it expects."""
    if error["loc"]:
        name = str(error["loc"][0])
        return f"{name.upper()} must be {Settings.model_fields[name].description}"
    # A check across settings (the model validators above): its message names them.
    return str(error.get("ctx", {}).get("error") or error["msg"])


@lru_cache
def get_settings() -> Settings:
    """The settings, loaded once; a `SettingsError` if any of them is unusable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(exc) from None
