"""The bug this test setup exists to prevent: fixtures and the app under test not seeing
each other's rows ("Session not found", "Patient not found"). Both directions."""

import uuid

from sqlalchemy import select

from app.models.db_models import Patient, Session


async def test_rows_made_by_fixtures_are_visible_to_the_api(
    client, auth_headers, test_patient, test_session
):
    patient = await client.get(f"/patients/{test_patient.id}", headers=auth_headers)
    session = await client.get(f"/sessions/{test_session.id}", headers=auth_headers)

    assert patient.status_code == 200, patient.text
    assert session.status_code == 200, session.text


async def test_rows_made_by_the_api_are_visible_to_fixture_queries(
    client, test_db, auth_headers, therapist_user
):
    response = await client.post(
        "/patients", json={"name": "Via API", "email": "api@test.com"}, headers=auth_headers
    )
    assert response.status_code == 201
    patient_id = uuid.UUID(response.json()["id"])

    rows = (await test_db.scalars(select(Patient).where(Patient.id == patient_id))).all()

    assert [row.name for row in rows] == ["Via API"]


async def test_changes_made_by_the_api_are_visible_to_fixture_queries(
    client, test_db, auth_headers, test_session
):
    response = await client.patch(
        f"/sessions/{test_session.id}", json={"status": "in_progress"}, headers=auth_headers
    )
    assert response.status_code == 200

    await test_db.refresh(test_session)

    assert test_session.status == "in_progress"
    status = await test_db.scalar(select(Session.status).where(Session.id == test_session.id))
    assert status == "in_progress"
