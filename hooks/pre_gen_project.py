"""Validate the answers before anything is generated. Standard library only.

Values arrive as JSON data (`tojson`), never pasted into Python source. A bad answer prints
one line, `ERROR: <field> ...`, and exits 1; cookiecutter then adds its own traceback.
Cookiecutter refuses a bad choice given on the command line itself (a `ValueError`), but a
replay file or a `cruft update` reaches this hook with any value, so choices are checked too.
"""

import json
import re
import sys
import tempfile
from pathlib import Path

ANSWERS = json.loads(
    r"""{{ {
        "project_name": cookiecutter.project_name,
        "project_slug": cookiecutter.project_slug,
        "author_email": cookiecutter.author_email,
        "python_version": cookiecutter.python_version,
        "db_strategy": cookiecutter.db_strategy,
        "postgres_version": cookiecutter.postgres_version,
        "ci": cookiecutter.ci
    } | tojson }}"""
)

RULES = {
    "project_name": (
        r'(?=\S)[^\x00-\x1f\x7f"\\]{1,100}',
        '1 to 100 printable characters other than " and \\, not starting with a space',
    ),
    "project_slug": (
        r"[a-z][a-z0-9]*(-[a-z0-9]+)*",
        "lowercase letters and digits in words joined by single dashes, starting with a letter",
    ),
    "author_email": (r"[^@\s]+@[^@\s]+\.[^@\s]+", "an email address such as name@example.com"),
}


# The choices of cookiecutter.json (tests/test_hooks.py keeps the two equal).
CHOICES = {
    "python_version": ("3.14", "3.15", "3.13", "3.12", "3.11"),
    "db_strategy": (
        "postgres_testcontainer",
        "postgres_async",
        "all_async_sqlite",
        "shared_session",
    ),
    "postgres_version": ("18", "19", "17", "16", "15"),
    "ci": ("github", "gitlab", "none"),
}


def problem() -> str | None:
    for field, (pattern, rule) in RULES.items():
        value = ANSWERS[field]
        if not re.fullmatch(pattern, value):
            return f"{field} {value!r} is not valid: use {rule}."
    for field, choices in CHOICES.items():
        if ANSWERS[field] not in choices:
            return f"{field} {ANSWERS[field]!r} is not valid: use one of {', '.join(choices)}."
    return None


def main() -> int:
    message = problem()
    if message:
        print(f"ERROR: {message} Nothing was generated.", file=sys.stderr)
        return 1
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
