"""Settings refuse an unusable secret, and weak password hashing, in production; every bad
setting stops the app, Alembic and the CLI with one line that names it, never its value."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.auth.utils import get_password_hash, password_hasher, verify_password
from app.config import Settings, SettingsError, get_settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]

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


# Secrets that must never be printed: valid URLs (with a password) beside a bad setting.
DATABASE_PASSWORD, STORAGE_PASSWORD = "db-pw-31415", "redis-pw-27182"
DATABASE_URL = f"postgresql+asyncpg://app:{DATABASE_PASSWORD}@localhost:5432/app"
STORAGE_URL = f"redis://:{STORAGE_PASSWORD}@localhost:6379/0"
SHORT_SECRET = "short-secret-16180"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ENVIRONMENT", "staging"),
        ("DATABASE_URL", "not a URL"),
        ("DATABASE_URL", "postgresql://app:sync-pw-14142@localhost/app"),  # not async
        ("DATABASE_URL", "postgresql+asyncpg://app:port-pw-17320@localhost:five/app"),
        ("ACCESS_TOKEN_EXPIRE_MINUTES", "0"),
        ("ACCESS_TOKEN_EXPIRE_MINUTES", "half an hour"),
        ("LOGIN_RATE_LIMIT", "5 per minut"),
        ("LOGIN_ACCOUNT_RATE_LIMIT", "ten"),
        ("RATE_LIMIT_STORAGE_URL", "reddis://:typo-pw-22360@localhost:6379/0"),
        ("RATE_LIMIT_STORAGE_URL", "memcached://localhost:11211"),  # no moving windows
        ("PASSWORD_HASH_COST", "cheap"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_without_its_value(monkeypatch, tmp_path, name, value):
    monkeypatch.chdir(tmp_path)  # no .env
    for other, valid in (("DATABASE_URL", DATABASE_URL), ("RATE_LIMIT_STORAGE_URL", STORAGE_URL)):
        monkeypatch.setenv(other, valid)
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as caught:
        get_settings.__wrapped__()  # uncached: the suite's own settings stay as they are

    message = str(caught.value.code)
    assert re.fullmatch(rf"Error: {name} must be [^\n]+", message), message
    for secret in (value, DATABASE_PASSWORD, STORAGE_PASSWORD):
        assert secret not in message


def test_production_without_a_real_secret_says_so_without_any_secret(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name, value in (
        ("ENVIRONMENT", "production"),
        ("SECRET_KEY", SHORT_SECRET),
        ("DATABASE_URL", DATABASE_URL),
        ("RATE_LIMIT_STORAGE_URL", STORAGE_URL),
    ):
        monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as caught:
        get_settings.__wrapped__()

    assert str(caught.value.code) == (
        "Error: SECRET_KEY must be set to a random value of at least 32 characters in production"
    )


def test_each_bad_setting_has_its_own_line(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOGIN_RATE_LIMIT", "often")
    monkeypatch.setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "-5")

    with pytest.raises(SettingsError) as caught:
        get_settings.__wrapped__()

    lines = str(caught.value.code).splitlines()
    assert sorted(line.split()[1] for line in lines) == [
        "ACCESS_TOKEN_EXPIRE_MINUTES",
        "LOGIN_RATE_LIMIT",
    ]


def run_with_settings(tmp_path: Path, *args: str, **settings: str) -> str:
    """Run `python -m <args>` as an operator would, with these settings and no `.env`;
    return what it printed, once it exited with status 1."""
    env = {k: v for k, v in os.environ.items() if k != "PASSWORD_HASH_COST"}
    env.update(settings, PYTHONPATH=str(PROJECT_ROOT))
    result = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=tmp_path,
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    return result.stderr


def assert_one_line_without_secrets(output: str, expected: str, *secrets: str) -> None:
    assert output.startswith(expected) and output.count("\n") == 1, output
    assert not [secret for secret in secrets if secret in output], output


def test_the_app_refuses_a_bad_storage_url_without_printing_it(tmp_path):
    bad = "reddis://:typo-pw-22360@localhost:6379/0"

    output = run_with_settings(
        tmp_path,
        *("uvicorn", "app.main:app", "--port", "0"),
        RATE_LIMIT_STORAGE_URL=bad,
        DATABASE_URL=DATABASE_URL,
    )

    assert_one_line_without_secrets(
        output, "Error: RATE_LIMIT_STORAGE_URL must be", bad, "typo-pw", DATABASE_PASSWORD
    )


def test_alembic_refuses_a_bad_database_url_without_printing_it(tmp_path):
    bad = "postgresql+asyncpg://app:port-pw-17320@localhost:five/app"

    output = run_with_settings(
        tmp_path,
        *("alembic", "-c", str(PROJECT_ROOT / "alembic.ini"), "upgrade", "head"),
        DATABASE_URL=bad,
        RATE_LIMIT_STORAGE_URL=STORAGE_URL,
    )

    assert_one_line_without_secrets(
        output, "Error: DATABASE_URL must be", bad, "port-pw", STORAGE_PASSWORD
    )


def test_the_cli_refuses_a_short_secret_in_production_without_printing_it(tmp_path):
    output = run_with_settings(
        tmp_path,
        *("app.cli", "create-user", "new@example.com"),
        ENVIRONMENT="production",
        SECRET_KEY=SHORT_SECRET,
        DATABASE_URL=DATABASE_URL,
        RATE_LIMIT_STORAGE_URL=STORAGE_URL,
    )

    assert_one_line_without_secrets(
        output, "Error: SECRET_KEY must be", SHORT_SECRET, DATABASE_PASSWORD, STORAGE_PASSWORD
    )
