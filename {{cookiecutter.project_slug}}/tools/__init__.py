"""Development tools that are not part of the app: run them with `python -m tools.<name>`."""
