"""The engine in an Ableton Link session: it follows the session's tempo and phase, and the
session hears our tempo (and, as an option, our start and stop).

Joining never imposes our tempo: a peer's Link starts at our tempo and adopts the session's
as it joins, which reaches us like any tempo a peer sets: a ``LinkTempo`` command through
``Engine.submit`` (so every client sees it), marked so it is not sent back. Our own tempo
changes leave through the player's ``tempo_out``, timed to the step they start on. What
Link says arrives on its own thread (``AbletonLink``); nothing here runs on the metronome.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import TYPE_CHECKING, Any, Callable

from .commands import Command, KeepTempo, LinkTempo, LoadSession
from .errors import Unavailable
from .link import AbletonLink, LinkPeer, LinkSample, LinkUnavailable, readable_tempo
from .timeline import BEATS_PER_BAR, same_tempo

if TYPE_CHECKING:
    from .engine import Engine

LINK_EVENT = "link"


class LinkSync:
    def __init__(self, engine: "Engine", connect: Callable[[], LinkPeer] | None = None) -> None:
        self.engine = engine
        cfg = engine.config
        self._connect = connect or (
            lambda: AbletonLink(engine.clock.now_ns, cfg.link_poll, round(cfg.link_tolerance * 1e9))
        )
        self.start_stop_sync = cfg.link_start_stop
        self.peer: LinkPeer | None = None
        self.message: str | None = None
        self._seen: LinkSample | None = None  # the session as last heard
        self._switch = threading.Lock()  # one enable or disable at a time
        engine.change_listeners.append(self._transport_changed)

    @property
    def enabled(self) -> bool:
        return self.peer is not None

    # ---- on and off (any thread but the Link thread) ---------------------------------------

    def enable(self, start_stop_sync: bool | None = None) -> dict[str, Any]:
        """Join the session on the network (or found one at our tempo). Raises ``Unavailable``
        with a clear message when Link is not installed; the engine plays on either way."""
        if start_stop_sync is not None:
            self.set_start_stop_sync(start_stop_sync)
        with self._switch:
            if self.peer is None:
                self._open()
        self._transport_changed()  # with start/stop sync, the session hears whether we play
        return self.status()

    def _open(self) -> None:
        engine = self.engine
        try:
            peer = self._connect()
        except LinkUnavailable as exc:
            self.message = str(exc)
            self._publish()
            raise Unavailable(self.message) from None
        with engine.lock:
            self.peer, self._seen = peer, None
            engine.player.tempo_out = peer.push_tempo
            bpm = engine.player.state.environment.bpm
        self.message = None
        try:  # the first sample (published as a ``link`` event) arrives before open returns
            peer.open(bpm, self.start_stop_sync, lambda sample: self._on_sample(peer, sample))
        except LinkUnavailable as exc:
            with engine.lock:
                self.peer = None
                engine.player.tempo_out = None
                engine.player.follow(None, engine.clock.now_ns())
            self.message = str(exc)
            self._publish()
            raise Unavailable(self.message) from None

    def disable(self) -> dict[str, Any]:
        """Leave the session; the music plays on at the tempo it had, from where it was."""
        engine = self.engine
        with self._switch:
            with engine.lock:
                peer, self.peer = self.peer, None
                if peer is not None:
                    engine.player.tempo_out = None
                    engine.player.follow(None, engine.clock.now_ns())
            if peer is not None:
                peer.close()  # joins the Link thread: no engine lock is held here
                self._seen = None
                self._publish()
        return self.status()

    def set_start_stop_sync(self, enabled: bool) -> None:
        self.start_stop_sync = enabled
        peer = self.peer
        if peer is not None:
            peer.set_start_stop_sync(enabled)
            self._transport_changed()
        self._publish()

    def close(self) -> None:
        self.disable()
        if self._transport_changed in self.engine.change_listeners:
            self.engine.change_listeners.remove(self._transport_changed)

    def yielding(self, command: Command) -> Command:
        """While others share the session, a whole session loaded here (a file, a restore)
        takes the session's tempo instead of imposing its own; an explicit tempo goes out."""
        seen = self._seen
        if isinstance(command, LoadSession) and self.enabled and seen is not None and seen.peers > 0:
            return KeepTempo(command)
        return command

    # ---- what the session says (the Link thread) ------------------------------------------

    def _on_sample(self, peer: LinkPeer, sample: LinkSample) -> None:
        engine = self.engine
        try:
            with engine.lock:
                if peer is not self.peer:  # a last word from a session we left
                    return
                seen, self._seen = self._seen, sample
                retimed = engine.player.follow(sample.clock, engine.clock.now_ns())
            if retimed:
                engine.metronome.wake()
            tempo = readable_tempo(sample.clock.bpm)
            # the first reading counts too: on a busy machine Link may have found the session
            # (at its own tempo) before we first read it
            heard = seen is None or sample.clock.bpm != seen.clock.bpm or sample.adopt
            if heard and not sample.own_tempo:
                if not same_tempo(tempo, engine.state.environment.bpm):
                    engine.submit(LinkTempo({"bpm": tempo}))
            if self.start_stop_sync and seen is not None and sample.playing != seen.playing:
                if sample.playing and not engine.player.playing:
                    engine.start()
                elif not sample.playing and engine.player.playing:
                    engine.stop()
            if seen is None or (sample.peers, sample.clock.bpm, sample.playing) != (
                seen.peers, seen.clock.bpm, seen.playing
            ):
                self._publish()
        except Exception as exc:  # the session keeps being followed; the user hears why not this once
            engine.bus.publish("error", {"message": "Link: a change from the session failed", "details": repr(exc)})

    def _transport_changed(self) -> None:
        """After every change: with start/stop sync, the session hears our play and stop."""
        peer, seen = self.peer, self._seen
        if peer is None or not self.start_stop_sync or seen is None:
            return
        playing = self.engine.player.playing
        if playing != seen.playing:
            peer.push_playing(playing)

    # ---- status ------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """``GET /playback/status``'s ``link``: the session as we follow it."""
        data = self.event_data()
        clock = self.engine.player.link_clock
        beat = None
        if self.enabled and clock is not None:
            beat = float(clock.beat_at(self.engine.clock.now_ns()))
        data.update(beat=beat, phase=None if beat is None else beat % BEATS_PER_BAR, quantum=BEATS_PER_BAR)
        return data

    def event_data(self) -> dict[str, Any]:
        """The ``link`` event: whether we are in a session, with how many peers, at what tempo."""
        seen = self._seen if self.enabled else None
        return {
            "enabled": self.enabled,
            "available": aalink_installed(),
            "peers": seen.peers if seen else 0,
            "tempo": readable_tempo(seen.clock.bpm) if seen else None,
            "playing": seen.playing if seen else None,
            "start_stop_sync": self.start_stop_sync,
            "message": self.message,
        }

    def _publish(self) -> None:
        self.engine.bus.publish(LINK_EVENT, self.event_data())


_installed: bool | None = None


def aalink_installed() -> bool:
    global _installed
    if _installed is None:
        _installed = importlib.util.find_spec("aalink") is not None
    return _installed
