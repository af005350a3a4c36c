"""The DSL's one error type: a mistake in a cell, said plainly. The music keeps playing."""


class DslError(ValueError):
    pass
