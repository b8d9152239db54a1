"""Application settings, read from the environment and from `.env`."""

import secrets
import warnings
from functools import lru_cache
from typing import Literal

from limits import parse
from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values copied from examples: never acceptable as a real signing key.
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "secret-key"})
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "postgresql+asyncpg://postgres:postgres@localhost:5432/app"
    secret_key: SecretStr | None = None
    access_token_expire_minutes: int = 30
    # Failed logins allowed in a moving window ("5/minute", "10/15 minutes"): per client
    # address, and per account (email). Counted where RATE_LIMIT_STORAGE_URL says:
    # memory:// (each process on its own) or redis://host:6379/0 (shared by all).
    login_rate_limit: str = "5/minute"
    login_account_rate_limit: str = "10/15 minutes"
    rate_limit_storage_url: str = "memory://"
    # "minimal": Argon2 at its lowest cost, so that tests log in in milliseconds. Never in
    # production, where passwords are hashed with pwdlib's recommended parameters.
    password_hash_cost: Literal["standard", "minimal"] = "standard"

    @field_validator("login_rate_limit", "login_account_rate_limit")
    @classmethod
    def _parse_as_a_rate(cls, value: str) -> str:
        parse(value)  # ValueError on anything `limits` cannot read
        return value

    @model_validator(mode="after")
    def _refuse_weak_hashing_in_production(self) -> "Settings":
        if self.environment == "production" and self.password_hash_cost != "standard":
            raise ValueError("PASSWORD_HASH_COST must be 'standard' in production")
        return self

    @model_validator(mode="after")
    def _require_a_real_secret(self) -> "Settings":
        key = self.secret_key.get_secret_value() if self.secret_key else ""
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


@lru_cache
def get_settings() -> Settings:
    return Settings()
