"""Render a session to a WAV file, offline (scsynth's non-realtime mode through nanosynth).

The steps come from the engine's own sequencer and the sounds from the same mapping as the
live scsynth output, so the render is what the engine would play, sample-accurately
(every instrument writes with ``OffsetOut``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..engine import state as st
from ..engine.outputs.midi import quiet_fd
from ..engine.ir import Session
from ..engine.sequencer import step_output
from ..engine.timeline import NS_PER_SECOND, STEPS_PER_BAR, Timeline
from .instruments import _nanosynth, synthdefs
from .mapping import note_for, sound_for
from .samples import SampleBank

SAMPLE_RATE = 48000
TAIL_SECONDS = 1.0  # let the last sounds ring out


@dataclass
class Rendered:
    path: Path
    seconds: float
    sample_rate: int
    onsets: list[tuple[float, str, str]] = field(default_factory=list)  # (seconds, track, synthdef)
    bar_times: list[float] = field(default_factory=list)  # when each bar starts, in seconds

    def _repr_html_(self) -> str:
        """A player and the waveform beside it, in a notebook. The player links the file
        (Jupyter serves it beside the notebook) instead of embedding it, which would put
        megabytes of audio into the notebook; the waveform is a small SVG."""
        import html
        import os

        from .waveform import waveform_svg

        src = html.escape(os.path.relpath(self.path) if not self.path.is_absolute() else self.path.name)
        return (
            '<div style="display:flex;gap:12px;align-items:center;flex-wrap:wrap">'
            f'<audio controls preload="none" src="{src}"></audio>{waveform_svg(self.path, self.bar_times)}</div>'
            f"<div><code>{html.escape(repr(self))}</code></div>"
        )

    def __repr__(self) -> str:
        return f"<rendered {len(self.onsets)} sounds, {self.seconds:.2f} s, to {self.path}>"


def quiet_stdout():
    return quiet_fd(1)


def play_state(source: Session | st.PlayState) -> st.PlayState:
    if isinstance(source, st.PlayState):
        return source
    state = st.load_session(st.PlayState(), source)
    if source.apply and source.apply.scene_name:
        state = st.activate_scene(state, source.apply.scene_name)
    return state


def render(
    source: Session | st.PlayState,
    path: str | Path,
    bars: int = 4,
    sample_rate: int = SAMPLE_RATE,
    assets_dir: Path | None = None,
) -> Rendered:
    """Render ``bars`` bars of ``source`` to ``path`` (WAV, stereo, 16-bit)."""
    if bars < 1:
        raise ValueError(f"bars must be at least 1, not {bars}")
    ns = _nanosynth()
    state = play_state(source)
    env = state.environment
    timeline = Timeline.start(0, 0, env.bpm, env.swing)
    samples = SampleBank(assets_dir)
    score = ns.Score()
    for sd in synthdefs():
        score.add_synthdef(0.0, sd)
    for sample in samples.all():
        score.add(0.0, ns.OscMessage("/b_allocRead", sample.buffer, str(sample.path), 0, 0))
    onsets: list[tuple[float, str, str]] = []
    last = 0.0
    for tick in range(bars * STEPS_PER_BAR):
        out = step_output(state, timeline, tick, tick % env.loop_steps)
        for sound in out.sounds:
            defname, controls = sound_for(sound.args, samples)
            at = sound.time_ns / NS_PER_SECOND
            score.add_synth(at, defname, -1, controls=controls)
            onsets.append((at, sound.track_id, defname))
            last = max(last, at + controls["sustain"])
        for note in out.notes:
            seconds = (note.off_ns - note.time_ns) / NS_PER_SECOND
            defname, controls = note_for(note.note, note.velocity, seconds)
            at = note.time_ns / NS_PER_SECOND
            score.add_synth(at, defname, -1, controls=controls)
            onsets.append((at, note.track_id, defname))
            last = max(last, at + seconds)
    end = max(last, timeline.time_ns(bars * STEPS_PER_BAR, 0) / NS_PER_SECOND) + TAIL_SECONDS
    score.add(end, ns.OscMessage("/c_set", 0, 0))  # the score lasts until here
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with quiet_stdout():  # libscsynth greets on stdout once per process
        score.render(str(path), sample_rate=sample_rate, header_format="WAV", sample_format="int16",
                     options=ns.Options(verbosity=-2))
    bar_times = [timeline.time_ns(bar * STEPS_PER_BAR, 0) / NS_PER_SECOND for bar in range(bars + 1)]
    return Rendered(path, end, sample_rate, sorted(onsets), bar_times)
