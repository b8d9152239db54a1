"""Password hashing (Argon2 through pwdlib) and JWT access tokens (PyJWT)."""

import uuid
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.config import Settings, get_settings

ALGORITHM = "HS256"  # fixed: never taken from the token's own header


def password_hasher(settings: Settings) -> PasswordHash:
    """Argon2id: pwdlib's recommended parameters, or the lowest Argon2 allows (tests only;
    settings refuse it in production). A hash records its parameters: either verifies both."""
    if settings.password_hash_cost == "minimal":
        return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1),))
    return PasswordHash.recommended()


@cache
def _password_hash() -> PasswordHash:
    return password_hasher(get_settings())


@cache
def _dummy_hash() -> str:
    # Verified against when the email is unknown, so that both cases take as long.
    return _password_hash().hash("not-a-real-password")


def get_password_hash(password: str) -> str:
    return _password_hash().hash(password)


def verify_password(password: str, hashed_password: str | None) -> bool:
    """Constant-time check; costs a full hash even when there is no user."""
    return _password_hash().verify(password, hashed_password or _dummy_hash()) and bool(
        hashed_password
    )


def create_access_token(
    user_id: uuid.UUID, settings: Settings | None = None, expires_in: timedelta | None = None
) -> str:
    settings = settings or get_settings()
    now = datetime.now(UTC)
    expires_in = expires_in or timedelta(minutes=settings.access_token_expire_minutes)
    claims = {"sub": str(user_id), "iat": now, "exp": now + expires_in}
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


def decode_access_token(token: str, settings: Settings | None = None) -> uuid.UUID:
    """Return the user id in a valid token; raise `jwt.InvalidTokenError` otherwise."""
    settings = settings or get_settings()
    claims = jwt.decode(
        token,
        settings.secret_key.get_secret_value(),
        algorithms=[ALGORITHM],
        options={"require": ["exp", "iat", "sub"]},
    )
    try:
        return uuid.UUID(claims["sub"])
    except (TypeError, ValueError) as exc:
        raise jwt.InvalidTokenError("malformed subject") from exc
