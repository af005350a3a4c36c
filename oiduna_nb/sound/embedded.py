"""Our instruments live: on the embedded scsynth (nanosynth) where an audio device exists,
or on a system scsynth; and the choice of output (SuperDirt first where it answers)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from ..engine import Engine
from ..engine.outputs.midi import quiet_fd
from ..engine.outputs.osc import encode_message
from ..engine.outputs.scsynth import ScsynthOutput
from .instruments import compiled
from .mapping import sound_for
from .samples import SampleBank

OUTPUTS = ("auto", "superdirt", "embedded", "scsynth")


def setup_messages(samples: SampleBank) -> list[bytes]:
    messages = [encode_message("/d_recv", [blob]) for blob in compiled()]
    for sample in samples.all():
        messages.append(encode_message("/b_allocRead", [sample.buffer, str(sample.path), 0, 0]))
    return messages


def scsynth_output(
    engine: Engine, host: str, port: int, samples: SampleBank, label: str, on_close: Any = None
) -> ScsynthOutput | None:
    output = ScsynthOutput(host, port, engine.clock.to_unix_ns, lambda args: sound_for(args, samples), label, on_close)
    if output.prepare(setup_messages(samples)):
        return output
    output.close()
    return None


class EmbeddedServer:
    """nanosynth's in-process scsynth on a free UDP port. Needs an audio device."""

    def __init__(self) -> None:
        import nanosynth

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = nanosynth.Server(nanosynth.Options(port=self.port, verbosity=-2))
        try:
            with quiet_fd(1), quiet_fd(2):  # PortAudio and ALSA narrate their probing
                self.server.boot()  # raises ServerCannotBoot without an audio device
        except BaseException:
            self._free_shared_memory()
            raise

    def _free_shared_memory(self) -> None:
        """scsynth keeps 8 MB of shared memory per port, left behind when a boot fails."""
        Path("/dev/shm", f"SuperColliderServer_{self.port}").unlink(missing_ok=True)

    def quit(self) -> None:
        try:
            self.server.quit()
        finally:
            self._free_shared_memory()


def choose_output(engine: Engine, choice: str, assets_dir: Any, scsynth_host: str, scsynth_port: int) -> str:
    """Pick where the engine plays and switch it there; returns a sentence saying so.

    auto: SuperDirt when it answers; else our instruments on the embedded server where an
    audio device exists; else SuperDirt all the same (it may start later).
    """
    if choice not in OUTPUTS:
        raise ValueError(f"output is one of {', '.join(OUTPUTS)}, not {choice!r}")
    if choice in ("auto", "superdirt"):
        if engine.check_superdirt() or choice == "superdirt":
            return "superdirt"
    samples = SampleBank(assets_dir)
    if choice == "scsynth":
        output = scsynth_output(engine, scsynth_host, scsynth_port, samples, f"scsynth at {scsynth_host}:{scsynth_port}")
        if output is None:
            return f"superdirt (no scsynth answered at {scsynth_host}:{scsynth_port})"
        engine.use_output(output)
        return output.label
    try:
        embedded = EmbeddedServer()
    except Exception as exc:  # no audio device, or nanosynth missing
        reason = "no audio device" if "Boot" in type(exc).__name__ else str(exc)
        return f"superdirt (built-in instruments unavailable: {reason})"
    label = "built-in instruments (embedded scsynth)"
    output = scsynth_output(engine, "127.0.0.1", embedded.port, samples, label, on_close=embedded.quit)
    if output is None:  # closing it quit the server
        return "superdirt (the embedded scsynth did not answer)"
    engine.use_output(output)
    return output.label
