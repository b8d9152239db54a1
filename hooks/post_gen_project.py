"""Shape the generated project for the chosen options. Standard library only.

Applies `_strategies/manifest.toml`: the chosen strategy's and CI provider's files go in
place, the rest goes. Then writes `.env` (the compose database, a random SECRET_KEY),
records the answers in `.cookiecutter.json` and prints the next steps (not for the
comparison bakes of `cruft update`). Never calls git, Docker or the network.
"""

import io
import json
import os
import re
import secrets
import shlex
import shutil
import sys
import tempfile
import tokenize
import tomllib
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
QUESTIONS = ("db_strategy", "ci")
STRATEGIES = Path("_strategies")
# Also in compose.yaml, .env.example and app/config.py.
DATABASE_URL = "postgresql+asyncpg://postgres:postgres@localhost:5432/app"


# Async names with a sync twin, renamed as unasync renames `__aenter__` to `__enter__`:
# polyfactory's factories save with `create_async` or `create_sync` (tests/factories.py).
SYNC_TWINS = {"create_async": "create_sync", "create_batch_async": "create_batch_sync"}


def strip_async(source: str) -> str:
    """Turn async test code into its sync twin: drop every `async` and `await` keyword, and
    call the sync twin of each name in SYNC_TWINS.

    Works on tokens, so strings and comments are left alone.
    """
    lines = source.splitlines(keepends=True)
    names = [
        token
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.NAME and token.string in {"async", "await", *SYNC_TWINS}
    ]
    for token in reversed(names):  # right to left, so columns stay valid
        row, col = token.start
        line = lines[row - 1]
        if token.string in SYNC_TWINS:
            lines[row - 1] = line[:col] + SYNC_TWINS[token.string] + line[token.end[1] :]
        else:
            lines[row - 1] = line[:col] + line[token.end[1] :].lstrip(" ")
    return "".join(lines)


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def apply_manifest(manifest: dict) -> None:
    source_dir = STRATEGIES / ANSWERS["db_strategy"]
    for question in QUESTIONS:
        rules = manifest[question][ANSWERS[question]]
        for source, destination in rules.get("files", {}).items():
            target = Path(destination)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source_dir / source, target)
        for path in rules.get("remove", []):
            remove(Path(path))
        for folder in rules.get("sync_tests", []):
            for module in sorted(Path(folder).rglob("*.py")):
                module.write_text(strip_async(module.read_text(encoding="utf-8")), encoding="utf-8")


def write_env() -> None:
    Path(".env").write_text(
        "# Local settings; never commit this file. See .env.example for every setting.\n"
        "ENVIRONMENT=development\n"
        "# The database of compose.yaml; point it at your own PostgreSQL if you have one.\n"
        f"DATABASE_URL={DATABASE_URL}\n"
        f"SECRET_KEY={secrets.token_urlsafe(48)}\n",
        encoding="utf-8",
    )


def record_answers() -> None:
    answers = {key: value for key, value in ANSWERS.items() if not key.startswith("_")}
    Path(".cookiecutter.json").write_text(
        json.dumps({"cookiecutter": answers}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )


def project_path() -> str:
    """This project's folder as the user will type it: relative to where cookiecutter ran."""
    here = Path.cwd()
    try:
        return shlex.quote(str(here.relative_to(os.environ.get("PWD", ""))))
    except ValueError:
        return shlex.quote(str(here))


def is_cruft_comparison_bake() -> bool:
    """`cruft update` bakes the old and the new template into fresh temporary folders and
    applies their difference; nobody will `cd` there. cruft adds `_commit` to the answers, and
    Python's `TemporaryDirectory` names its folders `tmp` and 8 characters (`mktemp -d`,
    which people use to try a bake, puts a dot after `tmp`)."""
    folder = Path.cwd().resolve().parent
    return (
        "_commit" in ANSWERS
        and folder.parent == Path(tempfile.gettempdir()).resolve()
        and re.fullmatch(r"tmp[a-z0-9_]{8}", folder.name) is not None
    )


def next_steps() -> str:
    if ANSWERS["db_strategy"].startswith("postgres_"):
        tests = "uv run pytest    # PostgreSQL: TEST_DATABASE_URL, Docker, or embedded (README)"
    else:
        tests = "uv run pytest    # in-memory SQLite: no server needed"
    return (
        "Next steps (README.md has the details; uv: https://docs.astral.sh/uv/):\n"
        f"  cd {project_path()} && uv sync\n"
        f"  {tests}\n"
        "  docker compose up -d --wait    # no Docker: uv run python -m tools.devdb start\n"
        "  uv run alembic upgrade head\n"
        "  uv run python -m app.cli create-user you@example.com\n"
        "  uv run uvicorn app.main:app --reload --reload-dir app    # http://127.0.0.1:8000/docs"
    )


def shadowed_dependency() -> str | None:
    """The slug when a package the project installs has the same name: uv.lock would then
    hold two packages of that name, and uv refuses to read it."""
    lock = tomllib.loads(Path("uv.lock").read_text(encoding="utf-8"))
    names = [package["name"] for package in lock["package"]]
    slug = ANSWERS["project_slug"]
    return slug if names.count(slug) > 1 else None


def main() -> int:
    manifest = tomllib.loads((STRATEGIES / "manifest.toml").read_text(encoding="utf-8"))
    apply_manifest(manifest)
    shutil.rmtree(STRATEGIES)
    if slug := shadowed_dependency():
        print(
            f"ERROR: project_slug '{slug}' is the name of a package this project installs;"
            f" choose another (e.g. 'my-{slug}'). Nothing was generated.",
            file=sys.stderr,
        )
        return 1
    write_env()
    record_answers()
    if not is_cruft_comparison_bake():
        print(next_steps())
    return 0


def remove_rendered_copy() -> None:
    """Cookiecutter runs a rendered copy of this hook from the temporary folder and leaves it
    there (`NamedTemporaryFile(delete=False)`); take it away."""
    copy = Path(__file__).resolve()
    if copy.parent == Path(tempfile.gettempdir()).resolve() and copy.name.startswith("tmp"):
        copy.unlink(missing_ok=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        remove_rendered_copy()
