"""Alternative fixtures, each the `conftest.py` of the generated tests' folder in a baked
copy, where they override the strategy's fixtures of the same name. Each module is one
baseline; its docstring says what it changes."""
