"""requirements-dev.txt, pip's copy of uv.lock, pins what uv.lock pins.

After every change to uv.lock (`uv add`, `uv lock --upgrade`, a Dependabot update), re-export
it: `uv export --frozen --no-emit-project -o requirements-dev.txt` (README: "Dependencies").
"""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)")


def locked() -> dict[str, tuple[str, set[str]]]:
    """{package: (version, hashes)} of uv.lock's packages from an index."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    found = {}
    for package in lock["package"]:
        if "registry" not in package["source"]:
            continue  # this project itself
        files = [package["sdist"]] if "sdist" in package else []
        files += package.get("wheels", [])
        found[package["name"]] = (package["version"], {file["hash"] for file in files})
    return found


def exported() -> dict[str, tuple[str, set[str]]]:
    """{package: (version, hashes)} of requirements-dev.txt."""
    text = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").replace("\\\n", " ")
    found = {}
    for line in text.splitlines():
        if pin := PIN.match(line):
            found[pin[1]] = (pin[2], set(re.findall(r"--hash=(\S+)", line)))
    return found


def test_requirements_dev_txt_pins_what_uv_lock_pins():
    lock, export = locked(), exported()

    assert len(lock) > 20
    assert sorted(export) == sorted(lock), "re-export requirements-dev.txt from uv.lock"
    for name, (version, hashes) in lock.items():
        assert export[name] == (version, hashes), f"{name}: re-export requirements-dev.txt"
