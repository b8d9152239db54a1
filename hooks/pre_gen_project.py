"""Validate the answers before anything is generated. Standard library only.

Values arrive as JSON data (`tojson`), never pasted into Python source.
"""

import json
import re
import sys

ANSWERS = json.loads(
    r"""{{ {
        "project_name": cookiecutter.project_name,
        "project_slug": cookiecutter.project_slug,
        "author_email": cookiecutter.author_email
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


def main() -> int:
    for field, (pattern, rule) in RULES.items():
        value = ANSWERS[field]
        if not re.fullmatch(pattern, value):
            print(f"ERROR: {field} {value!r} is not valid: use {rule}.", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
