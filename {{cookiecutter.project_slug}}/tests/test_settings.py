"""Settings refuse an unusable secret in production."""

import pytest
from pydantic import ValidationError

from app.config import Settings

GOOD_KEY = "k" * 40


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
