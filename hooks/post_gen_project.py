"""Shape the generated project for the chosen options. Standard library only.

Applies `_strategies/manifest.toml`: the chosen strategy's and CI provider's files go in
place, the rest goes. Then writes `.env` (the compose database, a random SECRET_KEY),
records the answers in `.cookiecutter.json` and prints the next steps. Never calls git,
Docker or the network.
"""

import io
import json
import secrets
import shlex
import shutil
import sys
import tokenize
import tomllib
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
QUESTIONS = ("db_strategy", "ci")
STRATEGIES = Path("_strategies")
# Also in compose.yaml, .env.example and app/config.py.
DATABASE_URL = "postgresql+asyncpg://postgres:postgres@localhost:5432/app"


def strip_async(source: str) -> str:
    """Turn async test code into its sync twin: drop every `async` and `await` keyword.

    Works on tokens, so strings and comments are left alone.
    """
    lines = source.splitlines(keepends=True)
    keywords = [
        token
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.NAME and token.string in {"async", "await"}
    ]
    for token in reversed(keywords):  # right to left, so columns stay valid
        row, col = token.start
        line = lines[row - 1]
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


def next_steps() -> str:
    if ANSWERS["db_strategy"].startswith("postgres_"):
        tests = "pytest            # PostgreSQL: TEST_DATABASE_URL, Docker, or embedded (README)"
    else:
        tests = "pytest            # in-memory SQLite: no server needed"
    return (
        "Next steps (README.md has the details):\n"
        f"  cd {shlex.quote(str(Path.cwd()))} && python3 -m venv .venv && . .venv/bin/activate"
        " && pip install -r requirements-dev.txt\n"
        f"  {tests}\n"
        "  docker compose up -d --wait    # no Docker: python -m tools.devdb start\n"
        "  alembic upgrade head\n"
        "  python -m app.cli create-user you@example.com\n"
        "  uvicorn app.main:app --reload --reload-dir app    # http://127.0.0.1:8000/docs"
    )


def main() -> int:
    manifest = tomllib.loads((STRATEGIES / "manifest.toml").read_text(encoding="utf-8"))
    apply_manifest(manifest)
    shutil.rmtree(STRATEGIES)
    write_env()
    record_answers()
    print(next_steps())
    return 0


if __name__ == "__main__":
    sys.exit(main())
