"""``%oiduna``: status, the API's port, panic, hush, restore and the server's log."""

from __future__ import annotations

from IPython.core.magic import Magics, line_magic, magics_class

USAGE = """%oiduna status           the status line and the playback status
%oiduna serve PORT       serve the HTTP/SSE API on PORT (after a taken-port message)
%oiduna stop-server      stop the HTTP/SSE API (the engine plays on)
%oiduna panic            release every MIDI note on every channel
%oiduna hush             silence every track now
%oiduna restore          bring back the session the previous kernel was playing
%oiduna log [N]          the last N lines of the API's log (default 40)
%oiduna midi-clock out on|off        send MIDI clock on the MIDI output
%oiduna midi-clock in PORT|virtual|off   follow a MIDI clock coming in
%oiduna link [on|off]    Ableton Link: join or leave the session on the network, or say how it is
%oiduna link start-stop on|off   start and stop with the Link session"""


def _clock_word(direction: str, word: str):
    if direction == "out":
        return word == "on"
    return False if word == "off" else (None if word == "virtual" else word)


@magics_class
class OidunaMagics(Magics):
    @line_magic
    def oiduna(self, line: str) -> None:
        from . import dsl
        from .extension import current, report
        from .logs import tail

        words = line.split()
        command = words[0] if words else "status"
        instrument = current()
        if command == "status":
            print(instrument.status_line())
            print(instrument.engine.status())
        elif command == "serve" and len(words) == 2 and words[1].isdigit():
            if instrument.serve(int(words[1])):
                print(instrument.status_line())
            else:
                report(instrument.server_error or "could not serve")
        elif command == "stop-server":
            instrument.stop_server()
            print(instrument.status_line())
        elif command == "panic":
            instrument.engine.midi_panic()
            print("oiduna_nb: MIDI panic sent (every note off on all 16 channels)")
        elif command == "hush":
            dsl.hush()
            print("oiduna_nb: hushed (every pattern emptied; run a track cell to bring it back)")
        elif command == "restore":
            print(instrument.restore())
        elif command == "midi-clock" and len(words) == 3 and words[1] in ("out", "in"):
            print(dsl.midi_clock(**{"out" if words[1] == "out" else "follow": _clock_word(words[1], words[2])}))
        elif command == "link" and words[1:] in ([], ["on"], ["off"], ["start-stop", "on"], ["start-stop", "off"]):
            self._link(instrument.engine, words[1:])
        elif command == "log" and len(words) <= 2 and all(w.isdigit() for w in words[1:]):
            print(tail(instrument.settings.data_dir, int(words[1]) if len(words) == 2 else 40))
        else:
            print(USAGE)

    @staticmethod
    def _link(engine, words: list[str]) -> None:
        from .engine.errors import Unavailable
        from .outputs import link_line

        try:
            if words == ["on"]:
                engine.link.enable()
            elif words == ["off"]:
                engine.link.disable()
            elif words:
                engine.link.set_start_stop_sync(words[1] == "on")
        except Unavailable as exc:
            print(f"oiduna_nb: {exc}")
            return
        print(link_line(engine))
