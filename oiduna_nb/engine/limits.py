"""What a value must be to travel: one place for every bound the door checks.

The bounds are far beyond what a real SuperDirt session uses (a few dozen params of a few
characters each), and tight enough that one accepted value can never make a step
unencodable or too large to send. docs/api.md lists them.
"""

from __future__ import annotations

import math
import re
from typing import Any, Mapping

FLOAT32_MAX = 3.4028234663852886e38  # OSC carries numbers as 32-bit floats or ints
INT32 = (-(2**31), 2**31 - 1)
MAX_STRING = 256  # characters in one param value (a sound name, a vowel, ...)
MAX_PARAMS = 64  # params in one dict (a track's params, fx, track_fx, an event's params)
PARAM_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")  # SuperCollider identifiers
MAX_ID = 128  # characters in a track, line, scene or client id
ID_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f/\\]")  # ids go into URL paths and OSC strings
MAX_JSON_DEPTH = 32  # nesting of any request body
MAX_META_DEPTH = 8  # nesting of free-form metadata (environment extras, modulations)
# Per-key ranges where SuperDirt gives a number a meaning (semitones, sample index).
PARAM_RANGES: dict[str, tuple[float, float]] = {
    "note": (-128.0, 128.0),
    "n": (-1024.0, 1024.0),
}


def check_number(value: float, what: str) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    if abs(value) > FLOAT32_MAX:
        raise ValueError(f"{what} is {value!r}: beyond what OSC carries (|x| ≤ {FLOAT32_MAX:.3g})")


def check_text(value: str, what: str, limit: int = MAX_STRING) -> None:
    if len(value) > limit:
        raise ValueError(f"{what} is {len(value)} characters long (limit {limit})")
    if "\x00" in value:
        raise ValueError(f"{what} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid Unicode (a lone surrogate?)") from None


def check_id(value: str, what: str = "id") -> str:
    if not value:
        raise ValueError(f"{what} must not be empty")
    check_text(value, what, MAX_ID)
    if ID_FORBIDDEN.search(value):
        raise ValueError(f"{what} {value!r} contains a control character or a slash")
    return value


def check_param(key: str, value: Any) -> None:
    """One SuperDirt param: an identifier key, and a scalar the wire can carry."""
    if not isinstance(key, str) or not PARAM_KEY.match(key):
        raise ValueError(f"param name {key!r} must be an identifier (letters, digits, '_'; at most 64)")
    if isinstance(value, str):
        check_text(value, f"param {key!r}")
    elif isinstance(value, (int, float)):
        check_number(value, f"param {key!r}")
        bounds = PARAM_RANGES.get(key)
        if bounds is not None and not isinstance(value, bool) and not bounds[0] <= value <= bounds[1]:
            raise ValueError(f"param {key!r} is {value!r}, outside {bounds[0]:g}..{bounds[1]:g}")
    else:
        raise ValueError(f"param {key!r} must be a string, a number or a boolean, not {type(value).__name__}")


def check_params(params: Mapping[str, Any], what: str = "params") -> None:
    if len(params) > MAX_PARAMS:
        raise ValueError(f"{what} has {len(params)} entries (limit {MAX_PARAMS})")
    for key, value in params.items():
        check_param(key, value)


def json_depth_error(value: Any, limit: int) -> str | None:
    """Why ``value`` (parsed JSON) is unfit to keep and send back, or None.

    Iterative, so a hostile nesting cannot exhaust the stack while it is checked.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return f"nested deeper than {limit} levels"
            children = item.values() if isinstance(item, dict) else item
            if isinstance(item, dict):
                for key in item:
                    if isinstance(key, str) and _bad_text(key):
                        return f"key {key[:40]!r}… is not valid Unicode"
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, str) and _bad_text(item):
            return "a string is not valid Unicode (a lone surrogate?)"
        elif isinstance(item, float) and not math.isfinite(item):
            return "a number is not finite"
    return None


def _bad_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
