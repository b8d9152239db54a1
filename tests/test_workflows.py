"""The generated GitHub Actions files pass zizmor's audits, offline, for every strategy.

zizmor runs with its pedantic persona (code smells count too) and fails on any finding: the
workflow must pin every action to a commit, grant `contents: read` and nothing more, and not
leave the checkout's token on disk (`persist-credentials: false`); Dependabot must wait a
few days before proposing a new release. A canary proves the audit can fail.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.baking import STRATEGIES, clean_env
from tests.conftest import bake

ZIZMOR = Path(sys.executable).with_name("zizmor")
# Offline audits only; pedantic persona; a file zizmor cannot parse is an error, not a skip.
ZIZMOR_OPTIONS = ("--offline", "--persona=pedantic", "--strict-collection", "--color=never")
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)", re.MULTILINE)
COMMIT = re.compile(r"@[0-9a-f]{40}$")


def zizmor(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ZIZMOR, *ZIZMOR_OPTIONS, path],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module", params=STRATEGIES)
def github_dir(request, cookies_session) -> Path:
    """The `.github/` folder of a project baked with ci=github and this strategy."""
    github = bake(cookies_session, db_strategy=request.param, ci="github") / ".github"
    assert (github / "workflows" / "ci.yml").is_file()
    assert (github / "dependabot.yml").is_file()
    return github


def test_zizmor_finds_nothing(github_dir):
    done = zizmor(github_dir)

    assert done.returncode == 0, done.stdout + done.stderr


def test_every_action_is_pinned_to_a_commit(github_dir):
    # Some zizmor versions let `actions/*` use tags; the template pins every action anyway.
    actions = USES.findall((github_dir / "workflows" / "ci.yml").read_text())

    assert actions
    assert [action for action in actions if not COMMIT.search(action)] == []


def test_zizmor_fails_on_a_weakened_workflow(github_dir, tmp_path):
    weakened = tmp_path / ".github"
    shutil.copytree(github_dir, weakened)
    workflow = weakened / "workflows" / "ci.yml"
    text = workflow.read_text()
    text = re.sub(r"@[0-9a-f]{40}.*", "@v4", text)  # tags, not commits
    text = text.replace("        with:\n          persist-credentials: false\n", "")  # token kept
    text = text.replace("permissions:\n  contents: read\n", "")  # default token permissions
    workflow.write_text(text)

    done = zizmor(weakened)

    assert done.returncode != 0
    for audit in ("unpinned-uses", "artipacked", "excessive-permissions"):
        assert f"[{audit}]" in done.stdout, done.stdout
