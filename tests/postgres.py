"""A throwaway PostgreSQL server for the template's tests and benchmarks.

`throwaway_server()` yields a server URL: `TEST_DATABASE_URL` if set, else a new cluster
made with the local server binaries (`initdb`, `pg_ctl`) in a temporary folder, on a free
port, with fsync off; stopped and deleted afterwards. `initdb` refuses to run as root: as
root, the cluster is made and run by the `postgres` user (`runuser -u postgres`).
"""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


def server_binaries() -> Path:
    """The folder holding initdb and pg_ctl (Debian keeps them out of PATH)."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not candidates:
        raise RuntimeError(
            "No PostgreSQL server binaries (initdb) found: install them "
            "(apt-get install postgresql) or set TEST_DATABASE_URL"
        )
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def throwaway_server() -> Iterator[str]:
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    bindir = server_binaries()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    workdir = Path(tempfile.mkdtemp(prefix="fdt-postgres-"))
    if as_postgres:
        shutil.chown(workdir, "postgres")
    data, port = workdir / "data", _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_postgres, *args], check=True, capture_output=True, text=True)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--no-sync")  # fmt: skip
        options = f"-F -p {port} -c listen_addresses=127.0.0.1 -k {workdir}"
        run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
            "-l", str(workdir / "server.log"), "-w", "start")  # fmt: skip
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":  # manual use: print a URL and keep the server until Enter
    with throwaway_server() as url:
        input(f"{url}\n(press Enter to stop) ")
