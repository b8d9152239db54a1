"""Therapy sessions: CRUD, per-patient lists, status rules, input limits, ownership."""

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from app.models.db_models import Session
from app.models.schemas import MAX_TRANSCRIPT_CHARS, SessionStatus
from tests.factories import PatientFactory, SessionFactory


@pytest.fixture
def when(now: datetime) -> datetime:
    """Tomorrow at 09:30 UTC: the date of a session booked today."""
    return (now + timedelta(days=1)).replace(hour=9, minute=30)


async def test_get_session_by_id(client, auth_headers, test_session):
    response = await client.get(f"/sessions/{test_session.id}", headers=auth_headers)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(test_session.id)
    assert body["patient_id"] == str(test_session.patient_id)
    assert body["status"] == "pending"
    assert body["transcript_text"] == "Sample transcript"


async def test_get_session_requires_a_token(client, test_session):
    response = await client.get(f"/sessions/{test_session.id}")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_get_unknown_session_is_404(client, auth_headers):
    response = await client.get(f"/sessions/{uuid.uuid4()}", headers=auth_headers)

    assert response.status_code == 404


async def test_get_session_with_malformed_id_is_422(client, auth_headers):
    response = await client.get("/sessions/not-a-uuid", headers=auth_headers)

    assert response.status_code == 422


async def test_other_therapists_session_is_404_not_403(client, auth_headers, other_session):
    response = await client.get(f"/sessions/{other_session.id}", headers=auth_headers)

    assert response.status_code == 404


async def test_create_session(client, test_db, auth_headers, test_patient, when):
    payload = {"patient_id": str(test_patient.id), "session_date": when.isoformat()}
    response = await client.post("/sessions", json=payload, headers=auth_headers)

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["therapist_id"] == str(test_patient.therapist_id)
    assert datetime.fromisoformat(body["session_date"]) == when
    assert await test_db.get(Session, uuid.UUID(body["id"])) is not None


async def test_create_session_stores_utc(client, auth_headers, test_patient, when):
    two_hours_east = when.astimezone(timezone(timedelta(hours=2)))  # 11:30+02:00
    payload = {"patient_id": str(test_patient.id), "session_date": two_hours_east.isoformat()}
    response = await client.post("/sessions", json=payload, headers=auth_headers)

    assert response.status_code == 201
    stored = datetime.fromisoformat(response.json()["session_date"])
    assert stored == when
    assert stored.utcoffset() == timedelta(0)


async def test_create_session_for_other_therapists_patient_is_404(
    client, test_db, auth_headers, other_patient, when
):
    payload = {"patient_id": str(other_patient.id), "session_date": when.isoformat()}
    response = await client.post("/sessions", json=payload, headers=auth_headers)

    assert response.status_code == 404
    await test_db.refresh(other_patient, ["sessions"])
    assert other_patient.sessions == []


async def test_create_session_for_unknown_patient_is_404(client, auth_headers, when):
    payload = {"patient_id": str(uuid.uuid4()), "session_date": when.isoformat()}
    response = await client.post("/sessions", json=payload, headers=auth_headers)

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("session_date", "2030-01-02T09:30:00"),  # no time zone: ambiguous
        ("session_date", "next tuesday"),
        ("session_date", 0),  # a number: not taken as a Unix timestamp
        ("session_date", "1700000000"),  # nor are digits
        ("session_date", "9999-12-31T23:30:00-05:00"),  # year 10000 in UTC
        ("session_date", "0001-01-01T00:30:00+01:00"),  # year 0 in UTC
        ("transcript_text", "x" * (MAX_TRANSCRIPT_CHARS + 1)),
        ("transcript_text", "nul \x00 byte"),
        ("status", "completed"),  # unknown field on create: a session starts pending
    ],
)
async def test_create_session_rejects_bad_input(
    client,
    auth_headers,
    test_patient,
    when,
    field,
    value,
):
    payload = {"patient_id": str(test_patient.id), "session_date": when.isoformat(), field: value}
    response = await client.post("/sessions", json=payload, headers=auth_headers)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


async def test_list_sessions_shows_only_own(client, auth_headers, test_session, other_session):
    response = await client.get("/sessions", headers=auth_headers)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [str(test_session.id)]


async def test_list_sessions_by_status(client, auth_headers, test_patient):
    of_patient = SessionFactory.of(test_patient)
    done = await SessionFactory.create_async(**of_patient, status=SessionStatus.completed)
    await SessionFactory.create_async(**of_patient)

    response = await client.get("/sessions?status=completed", headers=auth_headers)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [str(done.id)]


async def test_list_sessions_pages_in_date_order(client, auth_headers, test_patient, when):
    start = when
    rows = [
        await SessionFactory.create_async(
            **SessionFactory.of(test_patient), session_date=start + timedelta(days=n)
        )
        for n in (2, 0, 1)
    ]
    expected = [str(row.id) for row in sorted(rows, key=lambda row: row.session_date)]

    first = await client.get("/sessions?limit=2", headers=auth_headers)
    second = await client.get("/sessions?limit=2&offset=2", headers=auth_headers)

    assert [row["id"] for row in first.json()] == expected[:2]
    assert [row["id"] for row in second.json()] == expected[2:]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "status=unknown"])
async def test_list_sessions_rejects_bad_query(client, auth_headers, query):
    response = await client.get(f"/sessions?{query}", headers=auth_headers)

    assert response.status_code == 422


async def test_list_patient_sessions(client, auth_headers, test_patient, test_session):
    second_patient = await PatientFactory.create_async(therapist_id=test_patient.therapist_id)
    await SessionFactory.create_async(**SessionFactory.of(second_patient))

    response = await client.get(f"/patients/{test_patient.id}/sessions", headers=auth_headers)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [str(test_session.id)]


async def test_list_other_therapists_patient_sessions_is_404(client, auth_headers, other_session):
    url = f"/patients/{other_session.patient_id}/sessions"
    response = await client.get(url, headers=auth_headers)

    assert response.status_code == 404


async def test_update_transcript(client, test_db, auth_headers, test_session):
    response = await client.patch(
        f"/sessions/{test_session.id}",
        json={"transcript_text": "Revised transcript"},
        headers=auth_headers,
    )

    assert response.status_code == 200
    assert response.json()["transcript_text"] == "Revised transcript"
    await test_db.refresh(test_session)
    assert test_session.transcript_text == "Revised transcript"


async def test_update_other_therapists_session_is_404(client, test_db, auth_headers, other_session):
    response = await client.patch(
        f"/sessions/{other_session.id}", json={"transcript_text": "x"}, headers=auth_headers
    )

    assert response.status_code == 404
    await test_db.refresh(other_session)
    assert other_session.transcript_text == "Sample transcript"


ALLOWED = [
    ("pending", "in_progress"),
    ("pending", "cancelled"),
    ("in_progress", "completed"),
    ("in_progress", "cancelled"),
]
REFUSED = [
    ("pending", "completed"),
    ("in_progress", "pending"),
    ("completed", "pending"),
    ("completed", "in_progress"),
    ("cancelled", "pending"),
    ("cancelled", "completed"),
]


# test_db: an AsyncSession, or a Session where the tests are sync (postgres_testcontainer)
async def _set_status(test_db: Any, session: Session, status: str) -> None:
    session.status = SessionStatus(status)
    await test_db.commit()


@pytest.mark.parametrize(("before", "after"), ALLOWED)
async def test_allowed_status_change(client, test_db, auth_headers, test_session, before, after):
    await _set_status(test_db, test_session, before)

    response = await client.patch(
        f"/sessions/{test_session.id}", json={"status": after}, headers=auth_headers
    )

    assert response.status_code == 200
    assert response.json()["status"] == after


@pytest.mark.parametrize(("before", "after"), REFUSED)
async def test_refused_status_change(client, test_db, auth_headers, test_session, before, after):
    await _set_status(test_db, test_session, before)

    response = await client.patch(
        f"/sessions/{test_session.id}",
        json={"status": after, "transcript_text": "must not be saved"},
        headers=auth_headers,
    )

    assert response.status_code == 409
    await test_db.refresh(test_session)
    assert test_session.status == before
    assert test_session.transcript_text == "Sample transcript"


async def test_unknown_status_is_422(client, auth_headers, test_session):
    response = await client.patch(
        f"/sessions/{test_session.id}", json={"status": "archived"}, headers=auth_headers
    )

    assert response.status_code == 422


async def test_delete_session(client, test_db, auth_headers, test_session):
    session_id = test_session.id
    response = await client.delete(f"/sessions/{session_id}", headers=auth_headers)

    assert response.status_code == 204
    test_db.expunge_all()
    assert await test_db.get(Session, session_id) is None


async def test_delete_other_therapists_session_is_404(client, test_db, auth_headers, other_session):
    session_id = other_session.id
    response = await client.delete(f"/sessions/{session_id}", headers=auth_headers)

    assert response.status_code == 404
    test_db.expunge_all()
    assert await test_db.get(Session, session_id) is not None
