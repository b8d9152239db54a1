"""Every test starts from an empty database, whatever ran before it, in any order.

Each of these would fail if rows leaked from one test to another: under pytest-randomly
they run in a different order every time. Each writes another way (the ORM, raw SQL,
updates, deletes, a foreign key's cascade, the app) and starts by checking it finds nothing.
"""

import uuid

import pytest
from sqlalchemy import Uuid, bindparam, func, select, text

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


async def every_count(test_db) -> list[int]:
    return [await count(test_db, model) for model in (User, Patient, Session)]


RAW_USER = text(
    "INSERT INTO users (id, email, hashed_password, full_name, role, is_active) "
    "VALUES (:id, :email, 'not a hash', 'Raw SQL', 'therapist', true)"
).bindparams(bindparam("id", type_=Uuid()))


@pytest.mark.parametrize("attempt", ["first", "second"])
async def test_raw_sql_writes_do_not_leak(test_db, attempt):
    assert await every_count(test_db) == [0, 0, 0]
    await test_db.execute(RAW_USER, {"id": uuid.uuid4(), "email": "raw@test.com"})
    await test_db.commit()

    assert await count(test_db, User) == 1


async def test_updates_and_deletes_do_not_leak(test_db, therapist_user):
    assert await every_count(test_db) == [1, 0, 0]
    await test_db.execute(text("UPDATE users SET full_name = 'Renamed'"))
    await PatientFactory.create_async(therapist_id=therapist_user.id, email="gone@test.com")
    await test_db.execute(text("DELETE FROM patients"))
    await test_db.commit()

    assert await every_count(test_db) == [1, 0, 0]


async def test_cascaded_deletes_do_not_leak(test_db, test_session):
    assert await every_count(test_db) == [1, 1, 1]
    await test_db.execute(text("DELETE FROM users"))  # patients and sessions go by cascade
    await test_db.commit()

    assert await every_count(test_db) == [0, 0, 0]
