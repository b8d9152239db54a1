#!/bin/sh
# The production image's command (Dockerfile: CMD): bring the database up to date, then
# serve. A migration that fails stops here, with alembic's error and a non-zero exit, before
# the app takes any request.
# Several replicas? Run `alembic upgrade head` once (a job, an init container) and start each
# replica with the `exec uvicorn` line alone, so that they do not migrate at the same time.
set -eu
alembic upgrade head
exec uvicorn app.main:app --host 0.0.0.0 --port "${PORT:-8000}"
