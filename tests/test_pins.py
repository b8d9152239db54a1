"""The generated project's pins: made from the loose specs, complete, and what gets installed.

`requirements.in` and each strategy's `requirements-dev.in` are the source of truth;
`python -m tools.lock` compiles them into hashed locks and records a hash of each lock's
inputs in tools/locked-inputs.json. A lock older than its inputs fails here. The suites of
tests/test_generated_suites.py run in venvs installed from these locks.
"""

import json
import re
import shutil

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tools.lock import PROJECT, RECORD, inputs_hash, locks

LOCKS = sorted(locks())


def stale_locks(project=PROJECT) -> list[str]:
    record = json.loads(RECORD.read_text())
    found = {lock: inputs_hash(sources) for lock, sources in locks(project).items()}
    changed = found.keys() | record.keys()
    return sorted(lock for lock in changed if found.get(lock) != record.get(lock))


def entries(path) -> list[tuple[Requirement, list[str]]]:
    """Each requirement of a lock file and its hashes (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", path.read_text())
    found = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        spec, *options = line.split(" --")
        found.append((Requirement(spec.strip()), [o for o in options if o.startswith("hash=")]))
    return found


def pins(path, environment=None) -> dict[str, str]:
    """{name: version} of the lock's entries whose markers hold in this environment."""
    return {
        canonicalize_name(req.name): str(req.specifier).removeprefix("==")
        for req, _ in entries(path)
        if req.marker is None or req.marker.evaluate(environment)
    }


def loose(path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def test_every_lock_is_newer_than_its_inputs():
    assert stale_locks() == [], "inputs changed since the last lock: run `python -m tools.lock`"


def test_a_changed_input_makes_its_lock_stale(tmp_path):
    copy = shutil.copytree(PROJECT, tmp_path / "project")
    with (copy / "requirements.in").open("a") as file:
        file.write("rich>=13\n")

    stale = stale_locks(copy)

    assert stale == LOCKS  # every dev lock reads requirements.in too


def test_every_strategy_has_a_lock():
    strategies = [p for p in (PROJECT / "_strategies").iterdir() if p.is_dir()]

    assert strategies
    for strategy in strategies:
        assert (strategy / "requirements-dev.in").is_file(), strategy.name
        assert strategy.relative_to(PROJECT).as_posix() + "/requirements-dev.txt" in LOCKS


@pytest.mark.parametrize("lock", LOCKS)
def test_every_entry_is_one_exact_version_with_hashes(lock):
    found = entries(PROJECT / lock)

    assert len(found) > 20
    for requirement, hashes in found:
        assert re.fullmatch(r"==[^,*]+", str(requirement.specifier)), requirement
        assert hashes, requirement


@pytest.mark.parametrize("lock", LOCKS)
def test_every_loose_requirement_is_pinned_within_its_range(lock):
    sources = locks()[lock]
    pinned = [(canonicalize_name(req.name), req.specifier) for req, _ in entries(PROJECT / lock)]
    wanted = [req for source in sources if source.suffix == ".in" for req in loose(source)]

    assert wanted
    for requirement in wanted:
        versions = [s for name, s in pinned if name == canonicalize_name(requirement.name)]
        assert versions, f"{requirement} is not in {lock}"
        for specifier in versions:
            assert requirement.specifier.contains(str(specifier).removeprefix("==")), (
                f"{lock} pins {requirement.name}{specifier}, outside {requirement}"
            )


@pytest.mark.parametrize("lock", [lock for lock in LOCKS if lock != "requirements.txt"])
def test_dev_locks_pin_the_runtime_versions(lock):
    runtime = [(str(req), hashes) for req, hashes in entries(PROJECT / "requirements.txt")]
    dev = [(str(req), hashes) for req, hashes in entries(PROJECT / lock)]

    assert [entry for entry in runtime if entry not in dev] == []


def test_a_fresh_install_has_exactly_the_pinned_versions(project):
    """The project's venv was made by `pip install -r requirements-dev.txt` from nothing."""
    listed = project.run("pip", "list", "--format=json", "--disable-pip-version-check")
    assert listed.returncode == 0, listed.stderr
    installed = {
        canonicalize_name(package["name"]): package["version"]
        for package in json.loads(listed.stdout)
        if package["name"] not in {"pip", "setuptools"}
    }
    # The venv was made from this very Python: its markers are this environment's.
    expected = pins(project.path / "requirements-dev.txt", default_environment())

    assert installed == expected
