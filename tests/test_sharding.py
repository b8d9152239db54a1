"""Sharding the generated suites with pytest-split (`pytest --splits N --group k`).

Every shard selects its tests from the same list: the shards of a split are disjoint and
together make the whole suite, with the committed `.test_durations`, a missing one or a stale
one. On a synthetic suite of 2,000 tests with skewed durations, the shards' recorded
durations balance within 15 %. The generated CI files wire the shards the same way, and
their number (and `-n auto`'s workers) follows the recorded durations (tests/parallel.py):
one shard and no worker while the suite is short.
"""

import json
import random
import re
import subprocess
from collections import Counter

import pytest
import yaml

from tests.baking import Project, installed_python
from tests.conftest import bake

SEED = "--randomly-seed=4242"  # what CI does: every shard shuffles with the same seed
BALANCE = 0.15


@pytest.fixture(scope="session")
def env(postgres_url):
    """A server URL, for the strategies that need one (the SQLite ones ignore it)."""
    return {"TEST_DATABASE_URL": postgres_url}


def collected(project, env, *args: str) -> list[str]:
    done = project.pytest("--collect-only", "-q", SEED, *args, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def assert_partition(shards: list[list[str]], suite: list[str]) -> None:
    """Each test of the suite in exactly one shard, and no shard empty."""
    assert all(shards)
    counts = Counter(test for shard in shards for test in shard)
    assert sorted(counts) == sorted(suite)
    assert [test for test, n in counts.items() if n > 1] == []


@pytest.fixture(scope="session")
def suite(project, env) -> list[str]:
    tests = collected(project, env)
    assert len(tests) >= 36
    return tests


# How pytest-split deals the tests out does not depend on the strategy: one is enough here.
# test_three_shards_run_every_test_once runs three shards of every strategy for real.
@pytest.mark.parametrize("project", ["all_async_sqlite"], indirect=True)
@pytest.mark.parametrize("n", [2])  # 3: test_three_shards_run_every_test_once
def test_shards_split_the_suite_exactly_once(project, env, suite, n):
    shards = [collected(project, env, f"--splits={n}", f"--group={k}") for k in range(1, n + 1)]

    assert_partition(shards, suite)


# The durations file works alike for every strategy: one is enough.
@pytest.mark.parametrize("project", ["all_async_sqlite"], indirect=True)
@pytest.mark.parametrize("durations", ["missing", "stale"])
def test_shards_split_the_suite_without_fresh_durations(project, env, suite, durations, tmp_path):
    path = tmp_path / "durations.json"
    if durations == "stale":  # half the tests forgotten, some that no longer exist
        known = json.loads((project.path / ".test_durations").read_text())
        stale = {test: known[test] for test in sorted(known)[::2]}
        stale |= {f"tests/test_gone.py::test_{i}": 30.0 for i in range(5)}
        path.write_text(json.dumps(stale))
    options = (f"--durations-path={path}", "--splits=2")

    shards = [collected(project, env, *options, f"--group={k}") for k in (1, 2)]

    assert_partition(shards, suite)


def test_committed_durations_know_the_suite(project, suite):
    known = json.loads((project.path / ".test_durations").read_text())

    assert set(known) <= set(suite)  # no test that does not exist
    assert len(known) >= len(suite) * 0.9  # refresh with `python -m tools.durations`


# Run for real on one strategy (the sharding is pytest-split's, the same for every suite);
# the committed durations of every strategy are checked above.
@pytest.mark.parametrize("project", ["postgres_testcontainer"], indirect=True)
def test_three_shards_run_every_test_once(project, env, suite):
    ran = []
    for k in (1, 2, 3):
        done = project.pytest("-v", SEED, "--splits=3", f"--group={k}", env=env)
        assert done.returncode == 0, done.stdout[-3000:]
        ran.append(re.findall(r"^(tests/.+?) PASSED", done.stdout, re.MULTILINE))

    assert_partition(ran, suite)


# A synthetic suite: 2,000 tests with skewed durations (most a few milliseconds, a tenth of
# them around a second, a few tens of seconds), known only from a durations file.
MODULES, PER_MODULE = 20, 100


def skewed_durations() -> dict[str, float]:
    rng = random.Random(2026)
    durations = {}
    for m in range(MODULES):
        for i in range(PER_MODULE):
            slow = rng.random() < 0.1
            seconds = rng.lognormvariate(0, 1) if slow else rng.lognormvariate(-5, 1)
            durations[f"test_m{m:02}.py::test_case[{i}]"] = seconds
    for test in rng.sample(sorted(durations), 5):
        durations[test] = rng.uniform(10, 20)
    return durations


def imbalance(loads: list[float]) -> float:
    return max(loads) / min(loads) - 1


@pytest.fixture(scope="module")
def synthetic(cookies_session, tmp_path_factory):
    """The synthetic suite on disk, and a Python with the generated projects' pytest-split."""
    python = installed_python(bake(cookies_session, db_strategy="all_async_sqlite"))
    root = tmp_path_factory.mktemp("synthetic")
    (root / "pytest.ini").write_text("[pytest]\n")
    for m in range(MODULES):
        (root / f"test_m{m:02}.py").write_text(
            "import pytest\n\n\n"
            f"@pytest.mark.parametrize('i', range({PER_MODULE}))\n"
            "def test_case(i):\n"
            "    assert i >= 0\n"
        )
    durations = skewed_durations()
    (root / ".test_durations").write_text(json.dumps(durations))
    return python, root, durations


def synthetic_shard(synthetic, n: int, k: int) -> list[str]:
    python, root, _ = synthetic
    done = subprocess.run(
        [
            str(python),
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:asyncio",
            "--collect-only",
            "-q",
            SEED,
            "--splitting-algorithm=least_duration",
            f"--splits={n}",
            f"--group={k}",
        ],  # fmt: skip
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_synthetic_suite_is_skewed():
    durations = sorted(skewed_durations().values())

    assert len(durations) == 2000
    assert durations[-1] > 1000 * durations[len(durations) // 2]
    assert durations[-1] < sum(durations) / 4 / 2  # no single test breaks 4 shards' balance


@pytest.mark.parametrize("n", [2, 3, 4])
def test_synthetic_shards_balance_within_15_percent(synthetic, n):
    _, _, durations = synthetic
    shards = [synthetic_shard(synthetic, n, k) for k in range(1, n + 1)]
    loads = [sum(durations[test] for test in shard) for shard in shards]

    assert_partition(shards, list(durations))
    assert imbalance(loads) <= BALANCE, loads


def test_imbalance_is_measured():
    assert imbalance([10.0, 10.0]) == 0
    assert imbalance([10.0, 12.0]) > BALANCE


CI_FILES = {"github": ".github/workflows/ci.yml", "gitlab": ".gitlab-ci.yml"}


def recorded(project, durations: dict[str, float] | None) -> subprocess.CompletedProcess:
    """`python -m tests.parallel shards` with these durations (None: the committed ones)."""
    if durations is not None:
        (project.path / ".test_durations").write_text(json.dumps(durations))
    return subprocess.run(
        [str(project.python), "-m", "tests.parallel", "shards"],
        cwd=project.path, capture_output=True, text=True, check=True,
    )  # fmt: skip


@pytest.fixture
def sqlite_copy(cookies, tmp_path):
    path = bake(cookies, db_strategy="all_async_sqlite")
    return Project(path, installed_python(path))


def test_one_shard_while_the_suite_is_short_more_as_it_grows(sqlite_copy):
    assert recorded(sqlite_copy, None).stdout.strip() == "[1]"  # the shipped suite
    assert recorded(sqlite_copy, {"t.py::a": 400.0}).stdout.strip() == "[1, 2]"
    assert recorded(sqlite_copy, {f"t.py::{i}": 100.0 for i in range(100)}).stdout.strip() == (
        "[1, 2, 3, 4, 5, 6, 7, 8]"
    )


def test_n_auto_runs_serially_while_the_suite_is_short_and_in_workers_once_it_pays(
    sqlite_copy,
):
    short = sqlite_copy.pytest("-n", "auto", "tests/test_settings.py")
    (sqlite_copy.path / ".test_durations").write_text(json.dumps({"t.py::a": 100.0}))
    long = sqlite_copy.pytest("-n", "auto", "tests/test_settings.py")

    assert short.returncode == 0 and long.returncode == 0, short.stdout[-2000:] + long.stdout
    assert "workers" not in short.stdout  # no xdist worker: in-process
    assert "created: 2/2 workers" in long.stdout or "2 workers [" in long.stdout, long.stdout


@pytest.mark.parametrize("strategy", ["postgres_testcontainer", "all_async_sqlite"])
def test_github_workflow_plans_its_shards_from_the_recorded_durations(cookies, strategy):
    workflow = yaml.safe_load(
        (bake(cookies, db_strategy=strategy, ci="github") / CI_FILES["github"]).read_text()
    )
    plan = workflow["jobs"]["plan"]
    test, coverage = workflow["jobs"]["test"], workflow["jobs"]["coverage"]
    planned = next(step for step in plan["steps"] if "run" in step)
    run = next(step for step in test["steps"] if "pytest" in step.get("run", ""))
    upload = next(step for step in test["steps"] if "upload-artifact" in step.get("uses", ""))
    download = next(s for s in coverage["steps"] if "download-artifact" in s.get("uses", ""))
    combine = [step["run"] for step in coverage["steps"] if "run" in step]

    assert planned["run"] == 'echo "shards=$(python3 -m tests.parallel shards)" >> "$GITHUB_OUTPUT"'
    assert planned["id"] == "shards"
    assert plan["outputs"]["shards"] == "${{ steps.shards.outputs.shards }}"
    assert test["needs"] == "plan"
    assert test["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.plan.outputs.shards) }}"
    assert test["name"] == "Tests (shard ${{ matrix.shard }} of ${{ strategy.job-total }})"
    assert '--splits "$SHARDS" --group "$SHARD"' in run["run"]
    assert run["env"]["SHARDS"] == "${{ strategy.job-total }}"
    assert run["env"]["SHARD"] == "${{ matrix.shard }}"
    assert run["env"]["COVERAGE_FILE"] == upload["with"]["path"] == ".coverage.${{ matrix.shard }}"
    assert "-n auto" in run["run"] and "--cov" in run["run"]
    assert coverage["needs"] == "test"
    assert download["with"]["pattern"] == "coverage-*"
    assert upload["with"]["name"] == "coverage-${{ matrix.shard }}"
    assert combine[-2:] == ["uv run coverage combine", "uv run coverage report --fail-under=90"]


@pytest.mark.parametrize("strategy", ["postgres_testcontainer", "all_async_sqlite"])
def test_gitlab_pipeline_runs_one_job_while_the_suite_is_short(cookies, strategy):
    pipeline = yaml.safe_load(
        (bake(cookies, db_strategy=strategy, ci="gitlab") / CI_FILES["gitlab"]).read_text()
    )
    test, report = pipeline["test"], pipeline["coverage"]
    script = " ".join(test["script"])

    assert "parallel" not in test  # `python -m tests.parallel shards` says [1]
    assert '--splits "$CI_NODE_TOTAL" --group "${CI_NODE_INDEX:-1}"' in script
    assert 'COVERAGE_FILE=".coverage.${CI_NODE_INDEX:-1}"' in script
    assert test["artifacts"]["paths"] == [".coverage.*"]
    assert ("services" in test) == (strategy == "postgres_testcontainer")
    assert report["needs"] == ["test"]
    assert report["script"][-2:] == [
        "uv run coverage combine",
        "uv run coverage report --fail-under=90",
    ]
