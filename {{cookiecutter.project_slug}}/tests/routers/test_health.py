"""Liveness answers whatever the database does; readiness follows the database."""

import time

from app.routers import health


async def test_liveness_answers_ok(client):
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_the_database_answers(client):
    response = await client.get("/health/ready")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready"}


async def test_liveness_does_not_ask_the_database(client, database_down):
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_not_ready_when_the_database_refuses_connections(client, database_down):
    started = time.monotonic()
    response = await client.get("/health/ready")

    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json() == {"detail": "database unreachable (ConnectionRefusedError)"}


async def test_not_ready_in_time_when_the_database_hangs(client, database_silent, monkeypatch):
    monkeypatch.setattr(health, "DATABASE_TIMEOUT_SECONDS", 0.2)

    started = time.monotonic()
    response = await client.get("/health/ready")

    assert time.monotonic() - started < 1
    assert response.status_code == 503
    assert response.json() == {"detail": "database did not answer within 0.2 s"}
