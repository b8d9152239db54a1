"""Settings refuse an unusable secret, and weak password hashing, in production."""

import re

import pytest
from pydantic import ValidationError

from app.auth.utils import get_password_hash, password_hasher, verify_password
from app.config import Settings, get_settings

GOOD_KEY = "k" * 40
# OWASP's floor for Argon2id: 19 MiB of memory and 2 iterations.
OWASP_MIN_MEMORY_KIB, OWASP_MIN_ITERATIONS = 19 * 1024, 2


@pytest.fixture(autouse=True)
def _without_test_settings(monkeypatch):
    # tests/__init__.py sets PASSWORD_HASH_COST=minimal for the suite; these tests build
    # Settings from their own values.
    monkeypatch.delenv("PASSWORD_HASH_COST", raising=False)


def argon2_parameters(hashed: str) -> dict[str, int]:
    match = re.match(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", hashed)
    assert match, hashed
    return dict(zip("mtp", map(int, match.groups()), strict=True))


@pytest.mark.parametrize("key", [None, "", "change-me", "short-but-random"])
def test_production_refuses_a_missing_or_weak_secret(monkeypatch, key):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    values = {"environment": "production", "secret_key": key, "_env_file": None}

    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(**values)


def test_production_accepts_a_strong_secret():
    settings = Settings(environment="production", secret_key=GOOD_KEY, _env_file=None)

    assert settings.secret_key.get_secret_value() == GOOD_KEY


def test_development_without_a_secret_gets_a_random_one(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)

    first = Settings(environment="development", _env_file=None)
    second = Settings(environment="development", _env_file=None)

    assert len(first.secret_key.get_secret_value()) >= 32
    assert first.secret_key != second.secret_key


def test_production_refuses_minimal_password_hashing():
    with pytest.raises(ValidationError, match="PASSWORD_HASH_COST"):
        Settings(
            environment="production",
            secret_key=GOOD_KEY,
            password_hash_cost="minimal",
            _env_file=None,
        )


def test_production_hashes_passwords_at_full_cost():
    settings = Settings(environment="production", secret_key=GOOD_KEY, _env_file=None)

    parameters = argon2_parameters(password_hasher(settings).hash("a password"))

    assert parameters["m"] >= OWASP_MIN_MEMORY_KIB
    assert parameters["t"] >= OWASP_MIN_ITERATIONS


def test_the_suite_hashes_at_minimal_cost_and_still_verifies_strong_hashes():
    strong = password_hasher(Settings(_env_file=None)).hash("a password")

    assert get_settings().password_hash_cost == "minimal"
    assert argon2_parameters(get_password_hash("a password")) == {"m": 8, "t": 1, "p": 1}
    assert verify_password("a password", strong)
    assert not verify_password("another password", strong)
