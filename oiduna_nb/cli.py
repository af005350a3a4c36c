"""The ``oiduna-nb`` command.

    oiduna-nb demo [--bars N]                  the demo: live where it can sound, else a WAV file
    oiduna-nb play [SESSION] [--bars N]        play a session (the built-in demo by default)
    oiduna-nb render SESSION OUT.wav           render a session offline
    oiduna-nb serve [--host H] [--port P]      the engine and the HTTP/SSE API, headless
                    [--link]                   ... in the Ableton Link session on the network
    oiduna-nb midi-ports                       list MIDI ports

A SESSION is a JSON file (the ``POST /playback/session`` body) or the name of a session
shipped with the package: ``demo`` or ``seed`` (oiduna_nb/examples/).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from pydantic import ValidationError

from . import __version__
from .engine import Engine, Session
from .engine.timeline import position_label
from .examples import NAMES as EXAMPLES
from .examples import example_text
from .engine.outputs.midi_choice import CHOICES as MIDI_API_CHOICES
from .outputs import apply_midi_clock, link_line, select_output, status_line
from .settings import Settings


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--osc-host", metavar="HOST", help="SuperDirt host (env OSC_HOST, default 127.0.0.1)")
    parser.add_argument("--osc-port", type=int, metavar="PORT", help="SuperDirt port (env OSC_PORT, default 57120)")
    parser.add_argument("--midi-port", metavar="NAME", help="MIDI output port name (env MIDI_PORT)")
    _add_midi_api(parser)
    parser.add_argument("--midi-clock-out", action="store_true", default=None,
                        help="send MIDI clock (24 pulses a beat, start/stop) on the MIDI output (env OIDUNA_MIDI_CLOCK_OUT)")
    parser.add_argument("--midi-clock-in", metavar="PORT",
                        help="follow a MIDI clock on this input port ('virtual': a port others connect to; env OIDUNA_MIDI_CLOCK_IN)")
    parser.add_argument("--lookahead", type=float, metavar="SECONDS", help="seconds a bundle is sent ahead (default: 0.2 for SuperDirt, 0.1 for our instruments)")
    parser.add_argument("--output", choices=["auto", "superdirt", "embedded", "scsynth"],
                        help="where the sound goes (env OIDUNA_OUTPUT, default auto: SuperDirt if it answers, "
                        "else the built-in instruments where an audio device exists)")
    parser.add_argument("--link", action="store_true", default=None,
                        help="join the Ableton Link session on the network: its tempo and bars (env OIDUNA_LINK)")
    parser.add_argument("--link-start-stop", action="store_true", default=None,
                        help="with --link, start and stop with the session (env OIDUNA_LINK_START_STOP)")


def _add_midi_api(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--midi-api", choices=MIDI_API_CHOICES, metavar="API",
                        help="the MIDI system: " + ", ".join(MIDI_API_CHOICES) + " (env OIDUNA_MIDI_API, default auto: "
                        "JACK when a JACK server runs, else rtmidi)")


def _add_bars(parser: argparse.ArgumentParser, default: int, meaning: str) -> None:
    parser.add_argument("--bars", type=int, default=default, metavar="N", help=meaning)


SESSION_HELP = f"a session JSON file (the POST /playback/session body) or a built-in one: {', '.join(EXAMPLES)}"


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        key: value
        for key in ("osc_host", "osc_port", "midi_port", "midi_api", "lookahead", "output", "midi_clock_out",
                    "midi_clock_in", "link", "link_start_stop")
        if (value := getattr(args, key, None)) is not None
    }
    return Settings(**overrides)


def load_session_file(path: str | None) -> Session:
    """A session from a file, or one shipped with the package by name (a file of that name wins)."""
    if path is None or (path in EXAMPLES and not Path(path).exists()):
        text = example_text(path or "demo")
    else:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise SystemExit(f"oiduna-nb: cannot read {path}: {exc.strerror} "
                             f"(built-in sessions: {', '.join(EXAMPLES)})") from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"oiduna-nb: {path} is not JSON: {exc}") from None
    if isinstance(body, dict) and "data" in body and "environment" not in body:
        body = body["data"]  # the seed's timing wrapper
    try:
        return Session.model_validate(body)
    except ValidationError as exc:
        raise SystemExit(f"oiduna-nb: {path or 'the demo'} is not a valid session:\n{exc}") from None


class Stop(asyncio.Event):
    """Set by SIGINT or SIGTERM, for a clean shutdown instead of a traceback."""

    interrupted = False  # by Ctrl-C: the terminal echoed "^C" and no newline

    def by(self, sig: signal.Signals) -> None:
        self.interrupted = self.interrupted or sig == signal.SIGINT
        self.set()

    def say(self, message: str) -> None:
        """Print ``message`` on a line of its own, also after a "^C"."""
        print(("\n" if self.interrupted else "") + message, flush=True)


def stop_on_signals() -> Stop:
    done = Stop()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.by, sig)
    return done


async def announce(engine: Engine, settings: Settings) -> None:
    """Choose the output (a SuperDirt handshake first), then say what the engine plays to."""
    await asyncio.get_running_loop().run_in_executor(None, select_output, engine, settings)
    clock_problem = apply_midi_clock(engine, settings)
    print(status_line(engine), flush=True)
    if clock_problem:
        print(f"  {clock_problem}", flush=True)
    midi = engine.midi_status()
    if not midi["available"]:
        print(f"  {midi['message']}", flush=True)
    if settings.link:
        print(link_line(engine), flush=True)


def cmd_play(args: argparse.Namespace) -> int:
    session = load_session_file(args.session)
    return asyncio.run(_play(session, _settings(args), args.bars))


async def _play(session: Session, settings: Settings, bars: int, engine: Engine | None = None) -> int:
    """Play ``session``; an ``engine`` given has its output chosen already."""
    chosen = engine is not None
    engine = engine or Engine(settings.engine_config())
    done = stop_on_signals()
    try:
        if chosen:
            print(status_line(engine), flush=True)
        else:
            await announce(engine, settings)
        bars_started = 0
        loop = asyncio.get_running_loop()

        def on_event(event) -> None:
            nonlocal bars_started
            if event.type != "position" or event.data["step"] % 16:
                return
            bars_started += 1
            tracks = ", ".join(engine.state.active_tracks())
            at = position_label(event.data["step"])  # bar.beat.step in the loop, from 1
            print(f"bar {bars_started:>3}  at {at:<7} playing: {tracks}", flush=True)
            if bars and bars_started == bars:  # the last bar: stop once its last step has sounded
                end = engine.last_step_time_ns()
                wait = 0.0 if end is None else max(0.0, (end - engine.clock.now_ns()) / 1e9)
                loop.call_later(wait, done.set)

        unsubscribe = engine.bus.subscribe_callback(on_event)
        engine.load_session(session)
        engine.start(steps=16 * bars if bars else None)
        env = session.environment
        length = f" for {bars} bars" if bars else " (Ctrl-C stops)"
        print(f"playing {len(session.tracks)} OSC and {len(session.tracks_midi)} MIDI tracks "
              f"at {env.bpm:g} bpm{length}", flush=True)
        await done.wait()
        unsubscribe()
        engine.stop()
        stats = engine.metronome.stats
        done.say(f"stopped after {stats['steps']} steps; late bundles: {stats['late_steps']}")
    finally:
        engine.close()
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    session = load_session_file(args.session)
    return _render(session, args.out, args.bars, _settings(args))


def _render(session: Session, out: str, bars: int, settings: Settings) -> int:
    try:
        from .sound import render
    except ImportError:
        raise SystemExit("oiduna-nb: rendering needs the sound extra: pip install 'oiduna_nb[sound]'") from None
    result = render(session, out, bars=bars, assets_dir=settings.assets_dir)
    print(f"oiduna_nb: rendered {bars} bars ({result.seconds:.1f} s, {len(result.onsets)} sounds) to {result.path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Live where something can sound (SuperDirt, or an audio device); else a WAV file."""
    session = load_session_file(None)
    settings = _settings(args)
    engine = Engine(settings.engine_config())
    try:
        where = select_output(engine, settings)
    except BaseException:
        engine.close()
        raise
    if engine.output_name != "superdirt" or engine.superdirt_answering:
        print(f"oiduna_nb: playing the demo live ({where})")
        return asyncio.run(_play(session, settings, args.bars, engine))  # it closes the engine
    engine.close()
    print("oiduna_nb: no SuperDirt answering and no audio device here; rendering to a file instead")
    return _render(session, args.out, args.bars, settings)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    overrides = {k: v for k in ("api_host", "api_port") if (v := getattr(args, k, None)) is not None}
    settings = settings.model_copy(update=overrides)
    session = load_session_file(args.session) if args.session else None
    return asyncio.run(_serve(settings, session, args.play, args.restore))


async def _serve(settings: Settings, session: Session | None, play: bool, restore: bool = False) -> int:
    from .engine.collector import SessionCollector, freeze_what_is_loaded
    from .persist import Autosaver
    from .persist import restore as restore_saved
    from .server import ApiServer, PortInUse

    engine = Engine(settings.engine_config())
    engine.collector = SessionCollector()
    server = ApiServer(engine, settings)
    try:
        server.start()
    except PortInUse as exc:
        engine.close()
        print(f"oiduna-nb: {exc}", file=sys.stderr)
        return 2
    autosaver = Autosaver(engine, settings.data_dir / "sessions" / "serve-autosave.json") if settings.autosave else None
    done = stop_on_signals()
    try:
        await announce(engine, settings)
        print(f"oiduna_nb: API at {server.url} (docs at {server.url}/docs)", flush=True)
        if server.policy.token:
            print(f"oiduna_nb: token required: Authorization: Bearer {server.policy.token}", flush=True)
        proxy = server.ctx.scope_proxy
        if proxy is not None:
            print(f"oiduna_nb: /api/scope/* forwards to {proxy.url}; writes need Bearer {proxy.token}", flush=True)
        saved = autosaver.restorable() if autosaver else None
        if restore:
            if saved is None:
                print("oiduna_nb: no saved session to restore", flush=True)
            else:
                restore_saved(engine, saved)
                print(f"oiduna_nb: restored {saved.describe()}", flush=True)
        elif saved is not None and (saved.session.tracks or saved.session.tracks_midi):
            print(f"oiduna_nb: a saved session exists ({saved.describe()}): --restore brings it back", flush=True)
        if session is not None:
            engine.load_session(session)
            if play:
                engine.start()
        freeze_what_is_loaded()  # full collections walk only what comes later
        await done.wait()
        done.say("oiduna_nb: shutting down")
    finally:
        server.stop()
        if autosaver is not None:
            autosaver.close()
        engine.stop()  # releases every sounding MIDI note
        engine.close()
    return 0


def cmd_midi_ports(args: argparse.Namespace) -> int:
    from .engine.outputs.midi_choice import open_midi_output

    out = open_midi_output(args.midi_api or "auto")
    if not out.available:
        print(out.unavailable_reason)
        return 1
    for port in out.ports():
        kind = "in " if port.is_input else "out"
        print(f"{kind}  {port.name}")
    out.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oiduna-nb", description="A live-coding loop engine for Jupyter, and its HTTP/SSE API, headless.",
        epilog=f"SESSION: {SESSION_HELP}. In a notebook: %load_ext oiduna_nb (docs/dsl.md).")
    parser.add_argument("--version", action="version", version=f"oiduna-nb {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=summary, description=description)

    play = command("play", "play a session (the built-in demo by default)",
                   "Play a session to SuperDirt (or the built-in instruments) until Ctrl-C, or for --bars bars. "
                   "Each bar prints its place in the loop as bar.beat.step, counted from 1.")
    play.add_argument("session", nargs="?", metavar="SESSION", help=SESSION_HELP + " (default: demo)")
    _add_bars(play, 0, "stop after N bars (default: play until Ctrl-C)")
    _add_engine_options(play)
    play.set_defaults(func=cmd_play)
    render = command("render", "render a session offline to a WAV file",
                     "Render a session with the built-in instruments, offline (needs the sound extra).")
    render.add_argument("session", metavar="SESSION", help=SESSION_HELP)
    render.add_argument("out", metavar="OUT.wav", help="the WAV file to write")
    _add_bars(render, 8, "how many bars to render (default 8)")
    render.set_defaults(func=cmd_render)
    demo = command("demo", "hear the built-in demo: live if anything can sound, else a WAV file",
                   "Play the built-in demo live on SuperDirt if it answers, else on the built-in instruments "
                   "where an audio device exists; with neither, render it to a WAV file.")
    _add_bars(demo, 8, "how many bars to play or render (default 8)")
    demo.add_argument("--out", default="oiduna-demo.wav", help="where the render goes when nothing can play live")
    _add_engine_options(demo)
    demo.set_defaults(func=cmd_demo)
    serve = command("serve", "run the engine and the HTTP/SSE API headless",
                    "Serve the Oiduna HTTP/SSE API (Swagger UI at /docs) with the engine behind it, until Ctrl-C.")
    serve.add_argument("--host", dest="api_host", metavar="HOST", help="bind address (env API_HOST, default 127.0.0.1)")
    serve.add_argument("--port", dest="api_port", type=int, metavar="PORT", help="API port (env API_PORT, default 57122)")
    serve.add_argument("--session", metavar="SESSION", help=SESSION_HELP + ", loaded at start")
    serve.add_argument("--play", action="store_true", help="start playing the loaded session")
    serve.add_argument("--restore", action="store_true",
                       help="bring back the session the previous serve was playing (autosaved)")
    _add_engine_options(serve)
    serve.set_defaults(func=cmd_serve)
    ports = command("midi-ports", "list MIDI input and output ports",
                    "List the MIDI ports of the MIDI system (JACK or rtmidi's); MIDI_PORT picks one by name.")
    _add_midi_api(ports)
    ports.set_defaults(func=cmd_midi_ports)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
