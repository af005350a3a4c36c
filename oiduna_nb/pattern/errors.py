"""The one error type of the notebook's language: a mistake in a cell, said plainly.

It lives here because the pattern core is the lowest layer; ``oiduna_nb.dsl.errors``
re-exports it, so ``from oiduna_nb.dsl import DslError`` keeps working.
"""


class DslError(ValueError):
    """A mistake in a cell. In IPython it shows as its message (with the caret under the
    mistake), not under a long traceback of our own code: ``_render_traceback_`` is IPython's
    hook for exceptions that render themselves."""

    def _render_traceback_(self) -> list[str]:
        red, bold, reset = "\x1b[31m", "\x1b[1m", "\x1b[0m"
        first, *rest = str(self).split("\n") or [""]
        return [f"{red}{bold}DslError{reset}{red}: {first}{reset}", *rest]


def caret_error(message: str, text: str, column: int) -> DslError:
    """A DslError that quotes ``text`` with a caret under ``column`` (counted from 1)."""
    column = max(1, min(column, len(text) + 1))
    return DslError(f"{message} at column {column}\n  {text}\n  {' ' * (column - 1)}^")
