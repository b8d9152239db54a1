"""Login, tokens and the login limits: what a hostile client tries first."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from app.auth.utils import ALGORITHM, create_access_token
from app.config import get_settings
from app.routers.auth import login_limits
from tests.factories import PASSWORD, UserFactory
from tests.routers.conftest import bearer

LOGIN = {"email": "therapist@test.com", "password": PASSWORD}
WRONG = LOGIN | {"password": "wrong-password"}


def token_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed(claims: dict[str, Any], key: str | None = None, algorithm: str = ALGORITHM) -> str:
    key = key if key is not None else get_settings().secret_key.get_secret_value()
    return jwt.encode(claims, key, algorithm=algorithm)


async def test_login_returns_a_token_that_works(client, therapist_user):
    response = await client.post("/auth/login", json=LOGIN)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = await client.get("/auth/me", headers=token_headers(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == "therapist@test.com"
    assert "hashed_password" not in me.json()


async def test_login_ignores_email_case(client, therapist_user):
    response = await client.post("/auth/login", json=LOGIN | {"email": "Therapist@Test.com"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {"password": "wrong-password"},
        {"email": "nobody@test.com"},
    ],
)
async def test_login_with_bad_credentials_is_401(client, therapist_user, credentials):
    response = await client.post("/auth/login", json=LOGIN | credentials)

    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password"}


async def test_inactive_user_cannot_log_in(client):
    await UserFactory.create_async(email="therapist@test.com", is_active=False)

    response = await client.post("/auth/login", json=LOGIN)

    assert response.status_code == 401


async def test_inactive_user_token_stops_working(client, test_db, therapist_user, auth_headers):
    therapist_user.is_active = False
    await test_db.commit()

    response = await client.get("/auth/me", headers=auth_headers)

    assert response.status_code == 401


def _claims(user_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=5)} | overrides


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(
            lambda user: create_access_token(user.id, expires_in=timedelta(seconds=-1)),
            id="expired",
        ),
        pytest.param(lambda user: create_access_token(user.id)[:-4] + "AAAA", id="tampered"),
        pytest.param(lambda user: signed(_claims(user.id), key="x" * 32), id="wrong-secret"),
        pytest.param(
            lambda user: signed(_claims(user.id), key="", algorithm="none"), id="alg-none"
        ),
        pytest.param(
            lambda user: signed(_claims(user.id), algorithm="HS512"), id="other-algorithm"
        ),
        pytest.param(
            lambda user: signed({"sub": str(user.id), "iat": datetime.now(UTC)}), id="no-expiry"
        ),
        pytest.param(
            lambda user: signed({k: v for k, v in _claims(user.id).items() if k != "iat"}),
            id="no-issued-at",
        ),
        pytest.param(lambda user: signed(_claims(user.id, sub="admin")), id="bad-subject"),
        pytest.param(lambda user: signed(_claims(uuid.uuid4())), id="unknown-user"),
        pytest.param(lambda user: "not.a.token", id="garbage"),
    ],
)
async def test_bad_tokens_are_401(client, therapist_user, make_token):
    response = await client.get("/auth/me", headers=token_headers(make_token(therapist_user)))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_token_works_until_its_lifetime_is_over(client, therapist_user, now, time_machine):
    headers = bearer(therapist_user)  # issued now, with the clock stopped
    lifetime = timedelta(minutes=get_settings().access_token_expire_minutes)

    time_machine.shift(lifetime - timedelta(seconds=1))
    just_before = await client.get("/auth/me", headers=headers)
    time_machine.shift(timedelta(seconds=2))
    just_after = await client.get("/auth/me", headers=headers)

    assert just_before.status_code == 200
    assert just_after.status_code == 401
    assert just_after.headers["www-authenticate"] == "Bearer"


async def test_missing_token_is_401(client):
    response = await client.get("/auth/me")

    assert response.status_code == 401


async def test_schema_documents_the_401_of_every_protected_operation(client):
    response = await client.get("/openapi.json")

    operations = [op for path in response.json()["paths"].values() for op in path.values()]
    protected = [op for op in operations if op.get("security")]
    assert protected
    assert [op["operationId"] for op in protected if "401" not in op["responses"]] == []


async def test_failed_logins_are_limited_per_client(
    client, client_address, small_login_limits, therapist_user
):
    allowed = login_limits.per_client.amount
    client_address.host = "192.0.2.1"
    # A different unknown account each time: only this client's budget runs out.
    guesses = [LOGIN | {"email": f"guess{n}@test.com"} for n in range(allowed)]
    refused = [await client.post("/auth/login", json=guess) for guess in guesses]
    blocked = await client.post("/auth/login", json=LOGIN)
    client_address.host = "198.51.100.1"
    elsewhere = await client.post("/auth/login", json=LOGIN)

    assert [response.status_code for response in refused] == [401] * allowed
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert elsewhere.status_code == 200


async def test_successful_logins_use_up_no_budget(
    client, client_address, small_login_limits, therapist_user
):
    # Everyone behind one address (an office, a proxy) logging in, more often than any limit.
    logins = max(login_limits.per_client.amount, login_limits.per_account.amount) + 1
    accepted = [await client.post("/auth/login", json=LOGIN) for _ in range(logins)]
    wrong = await client.post("/auth/login", json=WRONG)

    assert [response.status_code for response in accepted] == [200] * logins
    assert wrong.status_code == 401


async def test_failures_from_many_addresses_lock_the_account(
    client, client_address, small_login_limits, therapist_user, other_therapist
):
    allowed = login_limits.per_account.amount
    statuses = []
    for n in range(allowed):
        client_address.host = f"203.0.113.{n + 1}"
        email = LOGIN["email"].upper() if n % 2 else LOGIN["email"]  # one account either way
        response = await client.post("/auth/login", json=WRONG | {"email": email})
        statuses.append(response.status_code)
    client_address.host = "198.51.100.1"
    locked = await client.post("/auth/login", json=LOGIN)
    other = await client.post("/auth/login", json=LOGIN | {"email": "other@test.com"})

    assert statuses == [401] * allowed
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert other.status_code == 200


async def test_a_locked_account_looks_the_same_whether_it_exists_or_not(
    client, client_address, small_login_limits, therapist_user
):
    allowed = login_limits.per_account.amount
    answers: dict[str, tuple[int, Any, list[str]]] = {}
    for email in ("therapist@test.com", "nobody@test.com"):
        for n in range(allowed):
            client_address.host = f"203.0.113.{len(answers) * allowed + n + 1}"
            await client.post("/auth/login", json=WRONG | {"email": email})
        client_address.host = "198.51.100.1"
        response = await client.post("/auth/login", json=LOGIN | {"email": email})
        answers[email] = (response.status_code, response.json(), sorted(response.headers))

    assert answers["nobody@test.com"] == answers["therapist@test.com"]
    status_code, _, headers = answers["nobody@test.com"]
    assert status_code == 429
    assert "retry-after" in headers


async def test_a_spent_budget_comes_back_when_its_window_has_passed(
    client, client_address, small_login_limits, therapist_user, now, time_machine
):
    window = timedelta(seconds=login_limits.per_client.get_expiry())
    for _ in range(login_limits.per_client.amount):
        await client.post("/auth/login", json=WRONG)
    blocked = await client.post("/auth/login", json=WRONG)

    time_machine.shift(window - timedelta(seconds=1))
    still_blocked = await client.post("/auth/login", json=WRONG)
    time_machine.shift(timedelta(seconds=1))
    counted_again = await client.post("/auth/login", json=WRONG)

    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) == window.total_seconds()
    assert still_blocked.status_code == 429
    assert still_blocked.headers["retry-after"] == "1"
    assert counted_again.status_code == 401
