"""Every test starts from an empty database, whatever ran before it, in any order.

Each of these would fail if rows leaked from one test to another: under pytest-randomly
they run in a different order every time.
"""

import pytest
from sqlalchemy import func, select

from app.models.db_models import Patient, Session, User
from tests.factories import PatientFactory, UserFactory


async def count(test_db, model) -> int:
    return int(await test_db.scalar(select(func.count()).select_from(model)))


async def test_database_starts_empty(test_db):
    assert [await count(test_db, model) for model in (User, Patient, Session)] == [0, 0, 0]


@pytest.mark.parametrize("attempt", ["first", "second", "third"])
async def test_same_unique_user_in_every_test(test_db, attempt):
    # users.email is unique: a leaked row from another attempt would make this fail.
    await UserFactory.create_async(email="unique@test.com")

    assert await count(test_db, User) == 1


async def test_seed_fixture_user_again(test_db, therapist_user):
    assert await count(test_db, User) == 1


@pytest.mark.parametrize("patients", [1, 3])
async def test_counts_are_exactly_what_this_test_made(test_db, therapist_user, patients):
    for n in range(patients):
        await PatientFactory.create_async(therapist_id=therapist_user.id, email=f"p{n}@test.com")

    assert await count(test_db, Patient) == patients


async def test_api_writes_do_not_leak(client, test_db, auth_headers):
    response = await client.post("/patients", json={"name": "Leak?"}, headers=auth_headers)
    assert response.status_code == 201

    assert await count(test_db, Patient) == 1
