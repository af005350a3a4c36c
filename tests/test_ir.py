"""The session IR accepts the seed's body and refuses bad input with usable pydantic errors."""

import pytest
from pydantic import TypeAdapter, ValidationError

from oiduna_nb.engine.ir import (
    AbsoluteTiming,
    BoundaryTiming,
    EnvironmentUpdate,
    Session,
    Timing,
)

from .conftest import seed_session_dict


def errors_of(body: dict, model=Session) -> list[dict]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(body)
    return info.value.errors()


def test_seed_example_validates():
    session = Session.model_validate(seed_session_dict())
    assert session.environment.bpm == 120.0
    assert session.tracks["kick"].params.s == "bd"
    assert [e.step for e in session.sequences["kick"].events] == [0, 4]
    assert session.apply.timing == "bar"


def test_bpm_must_be_positive_with_the_seed_error_shape():
    (error,) = errors_of({"bpm": -10}, EnvironmentUpdate)
    assert error["type"] == "greater_than"
    assert error["loc"] == ("bpm",)
    assert error["msg"] == "Input should be greater than 0"
    assert error["input"] == -10


@pytest.mark.parametrize(
    "path, value, fragment",
    [
        (("sequences", "kick", "events", 0, "velocity"), 1.5, "less than or equal to 1"),
        (("tracks", "kick", "params", "gain"), -1, "greater than or equal to 0"),
        (("tracks", "kick", "params", "pan"), 2, "less than or equal to 1"),
        (("environment", "swing"), 1.0, "less than 1"),
        (("environment", "loop_steps"), 0, "greater than or equal to 1"),
    ],
)
def test_ranges(path, value, fragment):
    body = seed_session_dict()
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    messages = " ".join(e["msg"] for e in errors_of(body))
    assert fragment in messages


def test_step_outside_the_loop_is_refused():
    body = seed_session_dict()
    body["environment"]["loop_steps"] = 16
    body["sequences"]["kick"]["events"].append({"step": 16})
    (error,) = errors_of(body)
    assert "outside the loop" in error["msg"]


def test_sequence_of_unknown_track_is_refused():
    body = seed_session_dict()
    body["sequences"]["ghost"] = {"track_id": "ghost", "events": [{"step": 0}]}
    (error,) = errors_of(body)
    assert "unknown track" in error["msg"]


def test_send_to_unknown_mixer_line_is_refused():
    body = seed_session_dict()
    body["tracks"]["kick"]["sends"] = [{"mixer_line": "verb", "amount": 0.5}]
    assert "unknown mixer line" in errors_of(body)[0]["msg"]


def test_unknown_superdirt_params_pass_through_but_must_be_scalars():
    body = seed_session_dict()
    body["tracks"]["kick"]["params"]["cutoff"] = 2000.0
    body["tracks"]["kick"]["fx"] = {"room": 0.3, "size": 0.8, "vowel": "a"}
    session = Session.model_validate(body)
    assert session.tracks["kick"].params.model_dump()["cutoff"] == 2000.0
    assert session.tracks["kick"].fx["vowel"] == "a"
    body["tracks"]["kick"]["params"]["cutoff"] = {"not": "a scalar"}
    assert errors_of(body)


def test_typo_in_a_structural_key_is_an_error_not_silence():
    body = seed_session_dict()
    body["tracks"]["kick"]["meta"]["muted"] = True  # the key is "mute"
    assert errors_of(body)[0]["type"] == "extra_forbidden"


def test_timing_wrapper_shapes():
    adapter = TypeAdapter(Timing)
    assert adapter.validate_python({"type": "boundary", "unit": "beat"}) == BoundaryTiming(
        type="boundary", unit="beat"
    )
    assert adapter.validate_python({"type": "absolute", "step": 128}) == AbsoluteTiming(
        type="absolute", step=128
    )
    with pytest.raises(ValidationError):
        adapter.validate_python({"type": "boundary", "unit": "fortnight"})
    with pytest.raises(ValidationError):
        adapter.validate_python({"type": "absolute", "step": -1})
