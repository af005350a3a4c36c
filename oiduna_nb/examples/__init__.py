"""Sessions shipped with the package, by name: ``demo`` (the demo's four bars of drums, bass
and keys) and ``seed`` (the API reference's example session).

    oiduna-nb serve --session demo --play          # a name instead of a file
    engine.load_session(example_session("demo"))
"""

from __future__ import annotations

from importlib import resources

NAMES = ("demo", "seed")


def example_text(name: str) -> str:
    """The JSON text of the example ``name``."""
    if name not in NAMES:
        raise ValueError(f"no example session {name!r}; the examples are {', '.join(NAMES)}")
    return resources.files(__package__).joinpath(f"{name}_session.json").read_text()


def example_session(name: str):
    """The example ``name`` as a ``Session``."""
    from ..engine import Session

    return Session.model_validate_json(example_text(name))
