"""What is benchmarked: each strategy of the template ("ours") and the baselines a user
would otherwise write, run on the same baked project and, for PostgreSQL, the same server.

A baseline is a `conftest.py` (from benchmarks/baselines/) placed beside the generated
tests, where its fixtures override the strategy's fixtures of the same name.

Adding a strategy: a row in STRATEGIES (which database, hence which bare harness, and its
isolation target), then a `Variant` row for ours (and one per baseline). Whether its
shared tests are sync is read from the template's `_strategies/manifest.toml`.
"""

import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

BASELINES = Path(__file__).resolve().parent / "baselines"
TEMPLATE_STRATEGIES = (
    Path(__file__).resolve().parents[1] / "{{cookiecutter.project_slug}}" / "_strategies"
)


@dataclass(frozen=True)
class Strategy:
    name: str  # the template's db_strategy
    family: str  # how the tables label it
    database: str  # "postgres" or "sqlite": the bare harness it is compared with
    isolation_limit_ms: float  # target: isolation cost per test, median

    @property
    def available(self) -> bool:
        """The template has this strategy (its folder under _strategies/)."""
        return (TEMPLATE_STRATEGIES / self.name).is_dir()

    @property
    def sync_tests(self) -> bool:
        """The post-generation hook turns the shared tests sync for this strategy."""
        manifest = tomllib.loads((TEMPLATE_STRATEGIES / "manifest.toml").read_text("utf-8"))
        return bool(manifest["db_strategy"].get(self.name, {}).get("sync_tests"))


STRATEGIES = {
    s.name: s
    for s in (
        Strategy("postgres_testcontainer", "postgres", "postgres", isolation_limit_ms=5),
        Strategy("postgres_async", "postgres async", "postgres", isolation_limit_ms=5),
        Strategy("all_async_sqlite", "async sqlite", "sqlite", isolation_limit_ms=2),
        Strategy("shared_session", "shared session", "sqlite", isolation_limit_ms=2),
    )
}
# The bare harness (benchmarks/harness.py) runs in a bake of this strategy, for both
# databases: it needs aiosqlite and asyncpg installed.
HARNESS_STRATEGY = "all_async_sqlite"
HARNESS_ITERATIONS_FOR_SUITES = 100  # about the size of a shipped suite


@dataclass(frozen=True)
class Variant:
    strategy: str  # the template's db_strategy the project is baked with
    name: str
    reset_fixture: str  # its set-up plus tear-down: the per-test isolation cost
    startup_fixtures: tuple[str, ...]  # their set-up: the session start-up
    conftest: str | None = None  # module in benchmarks/baselines/, None for ours
    extra_requirements: tuple[str, ...] = ()
    pytest_args: tuple[str, ...] = ()
    patch: Path | None = None  # a proposed change to the strategy's conftest, applied

    @property
    def key(self) -> str:
        if self.patch is not None:
            return f"ours+{self.patch.stem}"
        return self.conftest or "ours"

    @property
    def kind(self) -> str:
        """ours, floor (no isolation: the physical limit) or baseline."""
        if self.conftest is None:
            return "ours"
        return "floor" if self.conftest.endswith("_floor") else "baseline"

    @property
    def label(self) -> str:
        return f"{STRATEGIES[self.strategy].family} / {self.name}"

    def conftest_source(self) -> str | None:
        if self.conftest is None:
            return None
        return (BASELINES / f"{self.conftest}.py").read_text(encoding="utf-8")


POSTGRES_STARTUP = ("database_url", "migrated_engine", "app_client")
POSTGRES_ASYNC_STARTUP = ("database_url", "migrated_engine", "fixtures_engine", "app_engine")

VARIANTS = (
    Variant("postgres_testcontainer", "ours", "database", POSTGRES_STARTUP),
    Variant(
        "postgres_testcontainer",
        "no isolation (floor)",
        "database",
        POSTGRES_STARTUP,
        conftest="postgres_floor",
    ),
    Variant(
        "postgres_testcontainer",
        "drop_all/create_all",
        "database",
        POSTGRES_STARTUP,
        conftest="postgres_drop_create",
    ),
    Variant(
        "postgres_testcontainer",
        "database per test (TEMPLATE)",
        "database",
        # Its own `client` leaves the strategy's app fixtures unused.
        ("database_url", "migrated_engine", "admin"),
        conftest="postgres_template_db",
    ),
    Variant(
        "postgres_testcontainer",
        "seed guide (leaks)",
        "test_db",
        ("database_url", "postgres_container", "test_sync_engine", "test_async_engine"),
        conftest="postgres_seed",
        # The guide's async fixture needs pytest-asyncio, which the strategy keeps out.
        extra_requirements=("pytest-asyncio>=1.1",),
        pytest_args=(
            "-p",
            "pytest_asyncio.plugin",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            # Its tests error at tear-down (asyncpg used from two event loops), and
            # pytest's long tracebacks of these errors crash it (INTERNALERROR).
            "--tb=line",
        ),
    ),
    *(
        [
            Variant("postgres_async", "ours", "database", POSTGRES_ASYNC_STARTUP),
            Variant(
                "postgres_async",
                "no isolation (floor)",
                "database",
                POSTGRES_ASYNC_STARTUP,
                conftest="postgres_async_floor",
            ),
        ]
        if STRATEGIES["postgres_async"].available
        else []
    ),
    Variant("all_async_sqlite", "ours", "sessionmaker", ("engine",)),
    Variant(
        "all_async_sqlite",
        "no isolation (floor)",
        "sessionmaker",
        ("engine",),
        conftest="sqlite_floor",
    ),
    Variant(
        "all_async_sqlite",
        "drop_all/create_all",
        "sessionmaker",
        ("engine",),
        conftest="sqlite_drop_create",
    ),
    Variant("shared_session", "ours", "test_db", ("engine",)),
    Variant(
        "shared_session",
        "no isolation (floor)",
        "test_db",
        ("engine",),
        conftest="shared_session_floor",
    ),
)


def patched(patch: Path) -> Variant:
    """Ours, with a unified diff against `_strategies/<strategy>/conftest.py` applied."""
    found = re.search(r"^\+\+\+ \S*_strategies/(\w+)/conftest\.py", patch.read_text(), re.M)
    if found is None:
        raise ValueError(f"{patch}: not a diff of a strategy's conftest.py")
    ours = next(v for v in VARIANTS if v.strategy == found[1] and v.kind == "ours")
    return replace(ours, name=f"ours + {patch.stem}", patch=patch.resolve())
