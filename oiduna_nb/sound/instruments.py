"""Our own instruments: SynthDefs built in Python with nanosynth (the ``sound`` extra).

Every def takes the controls the event mapping gives it: ``amp`` (gain), ``pan`` (-1..1),
``freq``, ``sustain`` (the event length in seconds), ``speed`` and ``cutoff``. Each writes
with ``OffsetOut``, so a sound starts on its exact sample, and frees itself when done.
"""

from __future__ import annotations

from functools import lru_cache

DRUMS = ("oid_bd", "oid_sn", "oid_hh", "oid_oh", "oid_cp", "oid_rim", "oid_tom")
PITCHED = ("oid_bass", "oid_keys", "oid_pad")
SAMPLERS = ("oid_sample1", "oid_sample2")  # mono and stereo buffers


def _nanosynth():
    try:
        import nanosynth
    except ImportError as exc:  # pragma: no cover - the message is the point
        raise RuntimeError(
            "the built-in instruments need the 'sound' extra: pip install 'oiduna_nb[sound]'"
        ) from exc
    return nanosynth


def _out(ns, b, sig):
    ns.OffsetOut.ar(bus=0, source=ns.Pan2.ar(source=sig, position=b["pan"]))


def _perc(ns, attack, release, curve=-4.0):
    # audio rate: a control-rate envelope would hold the first block (64 samples) at 0
    return ns.EnvGen.ar(envelope=ns.Envelope.percussive(attack, release, 1.0, curve), done_action=2)


def _defs():
    ns = _nanosynth()
    controls = dict(amp=0.5, pan=0.0, freq=440.0, sustain=0.25, speed=1.0, cutoff=8000.0)
    built = []

    def define(name, body):
        with ns.SynthDefBuilder(**controls) as b:
            body(b)
        built.append(b.build(name=name))

    def bd(b):
        env = _perc(ns, 0.001, 0.32)
        sweep = ns.EnvGen.kr(envelope=ns.Envelope.percussive(0.0005, 0.06, 1.0, -6))
        pitch = 52 * b["speed"] * (1 + 3 * sweep)
        click = ns.HPF.ar(source=ns.WhiteNoise.ar(), frequency=2500) * ns.EnvGen.ar(
            envelope=ns.Envelope.percussive(0.0005, 0.006)
        )
        _out(ns, b, (ns.SinOsc.ar(frequency=pitch) * env + click * 0.3) * b["amp"])

    def sn(b):
        env = _perc(ns, 0.001, 0.18)
        tone = ns.SinOsc.ar(frequency=185 * b["speed"]) * ns.EnvGen.ar(envelope=ns.Envelope.percussive(0.001, 0.07))
        noise = ns.BPF.ar(source=ns.WhiteNoise.ar(), frequency=3000 * b["speed"], reciprocal_of_q=0.9)
        _out(ns, b, (tone * 0.6 + noise * 1.4 * env) * b["amp"])

    def hh(b):
        env = _perc(ns, 0.0005, 0.045, -6)
        _out(ns, b, ns.HPF.ar(source=ns.WhiteNoise.ar(), frequency=7000 * b["speed"]) * env * b["amp"] * 0.8)

    def oh(b):
        env = _perc(ns, 0.001, 0.3, -3)
        _out(ns, b, ns.HPF.ar(source=ns.WhiteNoise.ar(), frequency=6000 * b["speed"]) * env * b["amp"] * 0.6)

    def cp(b):
        env = _perc(ns, 0.001, 0.14, -5)
        noise = ns.BPF.ar(source=ns.WhiteNoise.ar(), frequency=1300 * b["speed"], reciprocal_of_q=0.6)
        _out(ns, b, noise * env * b["amp"] * 1.5)

    def rim(b):
        env = _perc(ns, 0.0005, 0.03, -6)
        _out(ns, b, ns.BPF.ar(source=ns.Pulse.ar(frequency=1700 * b["speed"]), frequency=1700, reciprocal_of_q=0.3) * env * b["amp"])

    def tom(b):
        env = _perc(ns, 0.001, 0.25)
        _out(ns, b, ns.SinOsc.ar(frequency=b["freq"] * b["speed"]) * env * b["amp"])

    def bass(b):
        env = ns.EnvGen.ar(envelope=ns.Envelope.linen(0.005, b["sustain"], 0.05), done_action=2)
        sig = ns.RLPF.ar(source=ns.Saw.ar(frequency=b["freq"]), frequency=(b["cutoff"] * 0.25).clip(60, 18000), reciprocal_of_q=0.4)
        _out(ns, b, sig * env * b["amp"] * 0.7)

    def keys(b):
        env = ns.EnvGen.ar(envelope=ns.Envelope.linen(0.003, b["sustain"], 0.25, 1.0, -3), done_action=2)
        sig = ns.LFTri.ar(frequency=b["freq"]) * 0.7 + ns.Pulse.ar(frequency=b["freq"] * 2, width=0.3) * 0.15
        _out(ns, b, ns.LPF.ar(source=sig, frequency=b["cutoff"]) * env * b["amp"] * 0.6)

    def pad(b):
        env = ns.EnvGen.ar(envelope=ns.Envelope.linen(0.08, b["sustain"], 0.5), done_action=2)
        sig = (ns.Saw.ar(frequency=b["freq"] * 0.996) + ns.Saw.ar(frequency=b["freq"] * 1.004)) * 0.5
        _out(ns, b, ns.LPF.ar(source=sig, frequency=(b["cutoff"] * 0.3).clip(200, 18000)) * env * b["amp"] * 0.5)

    for name, body in zip(DRUMS + PITCHED, (bd, sn, hh, oh, cp, rim, tom, bass, keys, pad)):
        define(name, body)

    for channels, name in ((1, "oid_sample1"), (2, "oid_sample2")):
        with ns.SynthDefBuilder(buf=0.0, **controls) as b:
            rate = ns.BufRateScale.kr(buffer_id=b["buf"]) * b["speed"]
            sig = ns.PlayBuf.ar(channel_count=channels, buffer_id=b["buf"], rate=rate, done_action=2)
            if channels == 1:
                _out(ns, b, sig * b["amp"])
            else:
                ns.OffsetOut.ar(bus=0, source=ns.Balance2.ar(left=sig[0], right=sig[1], position=b["pan"]) * b["amp"])
        built.append(b.build(name=name))
    return built


@lru_cache(maxsize=1)
def synthdefs() -> tuple:
    """Every instrument, built once."""
    return tuple(_defs())


@lru_cache(maxsize=1)
def compiled() -> list[bytes]:
    """The SynthDef file bytes of every instrument (for ``/d_recv``)."""
    return [sd.compile() for sd in synthdefs()]
