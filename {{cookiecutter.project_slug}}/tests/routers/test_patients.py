"""Patients: CRUD scoped to the logged-in therapist, input limits, conflicts."""

import uuid

import pytest
from sqlalchemy import func, select

from app.models.db_models import Patient, Session
from tests.factories import PatientFactory

NEW_PATIENT = {"name": "New Patient", "email": "new@test.com", "phone": "+441234567890"}


async def test_create_patient(client, test_db, auth_headers, therapist_user):
    response = await client.post("/patients", json=NEW_PATIENT, headers=auth_headers)

    assert response.status_code == 201
    body = response.json()
    assert body["therapist_id"] == str(therapist_user.id)
    row = await test_db.get(Patient, uuid.UUID(body["id"]))
    assert (row.name, row.email, row.phone) == ("New Patient", "new@test.com", "+441234567890")


async def test_create_patient_with_taken_email_is_409(client, test_db, auth_headers, test_patient):
    payload = NEW_PATIENT | {"email": test_patient.email}
    response = await client.post("/patients", json=payload, headers=auth_headers)

    assert response.status_code == 409
    assert response.json() == {"detail": "You already have a patient with this email"}
    assert await test_db.scalar(select(func.count()).select_from(Patient)) == 1


async def test_two_therapists_may_share_a_patient_email(client, other_auth_headers, test_patient):
    payload = NEW_PATIENT | {"email": test_patient.email}
    response = await client.post("/patients", json=payload, headers=other_auth_headers)

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 201),
        ("email", "not-an-email"),
        ("phone", "12-34"),
        ("phone", "+1234567890123456"),
        ("therapist_id", "5f0c9a52-5d0e-4b1e-9a51-3f1d2c4b6a70"),  # owner: the caller
    ],
)
async def test_create_patient_rejects_bad_input(client, auth_headers, therapist_user, field, value):
    payload = NEW_PATIENT | {field: value}
    response = await client.post("/patients", json=payload, headers=auth_headers)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


async def test_list_patients_shows_only_own(client, auth_headers, test_patient, other_patient):
    response = await client.get("/patients", headers=auth_headers)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [str(test_patient.id)]


async def test_list_patients_pages_in_name_order(client, auth_headers, therapist_user):
    # Two patients share a name: their ids settle the order, so pages never overlap.
    names = ["Carol", "Alice", "Bob", "Alice", "Dave"]
    owner = therapist_user.id
    rows = [await PatientFactory.create_async(therapist_id=owner, name=n) for n in names]
    expected = [str(row.id) for row in sorted(rows, key=lambda row: (row.name, row.id))]

    pages = [
        await client.get(f"/patients?limit=2&offset={offset}", headers=auth_headers)
        for offset in (0, 2, 4)
    ]

    assert [[row["id"] for row in page.json()] for page in pages] == [
        expected[:2],
        expected[2:4],
        expected[4:],
    ]


async def test_get_patient(client, auth_headers, test_patient):
    response = await client.get(f"/patients/{test_patient.id}", headers=auth_headers)

    assert response.status_code == 200
    assert response.json()["name"] == "Test Patient"


async def test_get_other_therapists_patient_is_404(client, auth_headers, other_patient):
    response = await client.get(f"/patients/{other_patient.id}", headers=auth_headers)

    assert response.status_code == 404


async def test_update_patient(client, test_db, auth_headers, test_patient):
    response = await client.patch(
        f"/patients/{test_patient.id}", json={"name": "Renamed"}, headers=auth_headers
    )

    assert response.status_code == 200
    await test_db.refresh(test_patient)
    assert test_patient.name == "Renamed"


async def test_null_clears_optional_fields_only(client, test_db, auth_headers, test_patient):
    response = await client.patch(
        f"/patients/{test_patient.id}",
        json={"name": None, "email": None},
        headers=auth_headers,
    )

    assert response.status_code == 200
    await test_db.refresh(test_patient)
    assert (test_patient.name, test_patient.email) == ("Test Patient", None)


async def test_update_other_therapists_patient_is_404(client, test_db, auth_headers, other_patient):
    response = await client.patch(
        f"/patients/{other_patient.id}", json={"name": "Hijacked"}, headers=auth_headers
    )

    assert response.status_code == 404
    await test_db.refresh(other_patient)
    assert other_patient.name == "Other Patient"


async def test_failed_update_changes_nothing(client, test_db, auth_headers, test_patient):
    second = await PatientFactory.create_async(
        therapist_id=test_patient.therapist_id, name="Second", email="second@test.com"
    )

    # The name is set first; the email then collides when the transaction commits.
    response = await client.patch(
        f"/patients/{second.id}",
        json={"name": "Half-updated", "email": test_patient.email},
        headers=auth_headers,
    )

    assert response.status_code == 409
    await test_db.refresh(second)
    assert (second.name, second.email) == ("Second", "second@test.com")


async def test_delete_patient_deletes_their_sessions(client, test_db, auth_headers, test_session):
    response = await client.delete(f"/patients/{test_session.patient_id}", headers=auth_headers)

    assert response.status_code == 204
    assert await test_db.scalar(select(func.count()).select_from(Session)) == 0
    assert await test_db.scalar(select(func.count()).select_from(Patient)) == 0


async def test_delete_other_therapists_patient_is_404(client, test_db, auth_headers, other_patient):
    response = await client.delete(f"/patients/{other_patient.id}", headers=auth_headers)

    assert response.status_code == 404
    assert await test_db.scalar(select(func.count()).select_from(Patient)) == 1
