"""The one error type of the notebook's language: a mistake in a cell, said plainly.

It lives here because the pattern core is the lowest layer; ``oiduna_nb.dsl.errors``
re-exports it, so ``from oiduna_nb.dsl import DslError`` keeps working.
"""


class DslError(ValueError):
    pass


def caret_error(message: str, text: str, column: int) -> DslError:
    """A DslError that quotes ``text`` with a caret under ``column`` (counted from 1)."""
    column = max(1, min(column, len(text) + 1))
    return DslError(f"{message} at column {column}\n  {text}\n  {' ' * (column - 1)}^")
