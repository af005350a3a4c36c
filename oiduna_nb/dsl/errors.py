"""The DSL's one error type: a mistake in a cell, said plainly. The music keeps playing.

Defined in the pattern core (the lowest layer) and re-exported here.
"""

from ..pattern.errors import DslError

__all__ = ["DslError"]
