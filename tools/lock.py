"""Pin the generated project's requirements: `python -m tools.lock [uv options]`.

Compiles, with `uv pip compile`, the generated project's `requirements.in` into
`requirements.txt`, and each strategy's `requirements-dev.in` into its `requirements-dev.txt`
(every folder under `_strategies/` that holds one: a new strategy is picked up by itself).
A lock pins every direct and transitive dependency to one exact version, with its hashes,
for every platform and every Python from 3.11 up (`--universal`).

Existing pins are kept wherever the inputs allow: only new or changed requirements move.
Options are passed on to uv: `--upgrade` moves everything to the newest allowed versions,
`--upgrade-package NAME` moves one package.

Each compile runs in a scratch folder laid out like a baked project, so every lock's header
shows the command that recompiles it inside the project itself. `tools/locked-inputs.json`
records a hash of the inputs of each lock; tests/test_pins.py fails when one changed since.
"""

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from uv import find_uv_bin

TEMPLATE = Path(__file__).resolve().parents[1]
PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"
RECORD = Path(__file__).with_name("locked-inputs.json")
COMPILE = ("pip", "compile", "--universal", "--python-version", "3.11", "--generate-hashes")


def locks(project: Path = PROJECT) -> dict[str, list[Path]]:
    """Each lock (relative to the project folder) and the files it is compiled from."""
    runtime = [project / "requirements.in"]
    found = {"requirements.txt": runtime}
    for source in sorted(project.glob("_strategies/*/requirements-dev.in")):
        lock = source.with_suffix(".txt").relative_to(project).as_posix()
        # requirements-dev.in reads requirements.in (-r) and requirements.txt (-c).
        found[lock] = [source, *runtime, project / "requirements.txt"]
    return found


def inputs_hash(sources: list[Path]) -> str:
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()


def compile_lock(source: Path, lock: Path, extra: list[str]) -> None:
    """`uv pip compile <source>.in -o <lock>.txt`, run where a baked project would have them."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        for name in ("requirements.in", "requirements.txt"):
            if (PROJECT / name).exists():
                shutil.copy(PROJECT / name, work / name)
        shutil.copy(source, work / source.name)
        if lock.exists():  # reuse its pins
            shutil.copy(lock, work / lock.name)
        command = [find_uv_bin(), *COMPILE, source.name, "-o", lock.name, "--quiet", *extra]
        subprocess.run(command, cwd=work, check=True)
        shutil.copy(work / lock.name, lock)


def main(extra: list[str]) -> int:
    record = {}
    for lock, sources in locks().items():
        started = time.monotonic()
        compile_lock(sources[0], PROJECT / lock, extra)
        record[lock] = inputs_hash(sources)
        print(f"{lock}: {time.monotonic() - started:.1f} s")
    RECORD.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
