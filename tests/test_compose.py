"""compose.yaml: valid for every PostgreSQL version offered, and the same database as .env,
.env.example and the app's default settings."""

import json
import re
import subprocess

import pytest
import yaml

from tests.baking import TEMPLATE
from tests.conftest import bake
from tests.test_bake import BIN

POSTGRES = json.loads((TEMPLATE / "cookiecutter.json").read_text())["postgres_version"]


@pytest.fixture(scope="module")
def projects(cookies_session):
    """One bake per PostgreSQL version."""
    return {version: bake(cookies_session, postgres_version=version) for version in POSTGRES}


def test_compose_files_match_the_compose_spec(projects):
    files = [project / "compose.yaml" for project in projects.values()]

    check = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", *files],
        capture_output=True,
        text=True,
    )

    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("version", POSTGRES)
def test_compose_runs_the_chosen_postgres_with_its_data_in_a_volume(projects, version):
    compose = yaml.safe_load((projects[version] / "compose.yaml").read_text())
    db = compose["services"]["db"]

    assert db["image"] == f"postgres:{version}-alpine"
    assert "healthcheck" in db
    # The official images moved their data folder in PostgreSQL 18.
    target = "/var/lib/postgresql" if int(version) >= 18 else "/var/lib/postgresql/data"
    assert db["volumes"] == [f"db-data:{target}"]
    assert "db-data" in compose["volumes"]
    # Redis for the login limits, on this machine only, where .env.example says it is.
    redis = compose["services"]["redis"]
    assert redis["ports"] == ["127.0.0.1:6379:6379"]
    assert "healthcheck" in redis
    assert "redis://localhost:6379/0" in (projects[version] / ".env.example").read_text()


def test_env_example_settings_and_compose_name_the_same_database(projects):
    project = projects[POSTGRES[0]]
    db = yaml.safe_load((project / "compose.yaml").read_text())["services"]["db"]
    env = db["environment"]
    port = db["ports"][0].rsplit(":", 2)[-2]
    expected = (
        f"postgresql+asyncpg://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}"
        f"@localhost:{port}/{env['POSTGRES_DB']}"
    )

    def database_url(path: str) -> str:
        text = (project / path).read_text()
        return re.search(r"^DATABASE_URL=(\S+)$", text, re.MULTILINE).group(1)

    config = (project / "app/config.py").read_text()
    assert database_url(".env") == expected
    assert database_url(".env.example") == expected
    default = re.search(r'database_url: Annotated\[.*?\] = "([^"]+)"', config, re.DOTALL)
    assert default and default[1] == expected
