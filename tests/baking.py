"""Bake projects and give each its own installed virtualenv: shared by tests and benchmarks."""

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from uv import find_uv_bin

TEMPLATE = Path(__file__).resolve().parents[1]
CACHE = TEMPLATE / ".cache"
STRATEGIES = ("postgres_testcontainer", "postgres_async", "all_async_sqlite", "shared_session")


def installed_python(project: Path) -> Path:
    """A virtualenv with the project's `uv sync --locked` done: its uv.lock, installed.

    Keyed by the project's pyproject.toml, uv.lock and this Python, and kept in .cache/ so
    that later runs reuse it; a lock keeps parallel runs from building the same one twice.
    uv installs from its shared cache, and fails if uv.lock no longer matches pyproject.toml.
    """
    inputs = b"".join((project / name).read_bytes() for name in ("pyproject.toml", "uv.lock"))
    key = hashlib.sha256(inputs + sys.version.encode()).hexdigest()[:16]
    env_dir = CACHE / f"venv-{key}"
    CACHE.mkdir(exist_ok=True)
    with open(CACHE / f"venv-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (env_dir / ".complete").exists():
            shutil.rmtree(env_dir, ignore_errors=True)
            uv_sync(project, env_dir)
            (env_dir / ".complete").touch()
    return env_dir / "bin" / "python"


def uv_sync(project: Path, env_dir: Path, *options: str) -> subprocess.CompletedProcess:
    """`uv sync --locked` of a baked project into `env_dir`, with this Python."""
    return subprocess.run(
        [find_uv_bin(), "sync", "--locked", "--quiet", "--python", sys.executable, *options],
        cwd=project,
        env=clean_env({"UV_PROJECT_ENVIRONMENT": str(env_dir), "UV_PYTHON_DOWNLOADS": "never"}),
        check=True,
    )


@dataclass
class Project:
    """A baked project and the Python of its virtualenv."""

    path: Path
    python: Path

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 600):
        """Run `python -m <args>` in the project; returns the CompletedProcess."""
        return subprocess.run(
            [str(self.python), "-m", *args],
            cwd=self.path,
            env=clean_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def pytest(self, *args: str, env: dict[str, str] | None = None, timeout: float = 600):
        return self.run("pytest", "-p", "no:cacheprovider", *args, env=env, timeout=timeout)


@contextlib.contextmanager
def bytecode_cache() -> Iterator[None]:
    """Python's compiled bytecode kept, for the processes started inside, in a folder of its
    own that is deleted at the end (PYTHONPYCACHEPREFIX), never in the projects.

    Where PYTHONDONTWRITEBYTECODE is set (as on some CI machines), every start of a project's
    Python compiles every module it imports from source again, and pytest rewrites the
    asserts of every module of its plugins' packages (faker's hundreds): 1-2 s a start."""
    saved = {name: os.environ.get(name) for name in BYTECODE}
    folder = tempfile.mkdtemp(prefix="fdt-pycache-")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = folder
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value
        shutil.rmtree(folder, ignore_errors=True)


BYTECODE = ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the settings that would leak into a project."""
    env = {k: v for k, v in os.environ.items() if k not in LEAKY}
    env.update(extra or {})
    return env


LEAKY = {
    "TEST_DATABASE_URL", "DATABASE_URL", "SECRET_KEY", "PYTHONPATH", "VIRTUAL_ENV",
    "UV_PROJECT_ENVIRONMENT",
}  # fmt: skip
