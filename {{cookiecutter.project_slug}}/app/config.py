"""Application settings, read from the environment and from `.env`."""

import secrets
import warnings
from functools import lru_cache
from typing import Literal

from pydantic import SecretStr, model_validator
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
    login_rate_limit: str = "5/minute"
    # "minimal": Argon2 at its lowest cost, so that tests log in in milliseconds. Never in
    # production, where passwords are hashed with pwdlib's recommended parameters.
    password_hash_cost: Literal["standard", "minimal"] = "standard"

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
