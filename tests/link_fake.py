"""A Link session in the test's hands: a double of the external library (aalink), with the
interface of our wrapper (``engine.link.LinkPeer``), so the engine's own logic runs for real
on a manual clock. The test says what the session's mapping, peers and start/stop are;
what the engine hands to the session is recorded, and lands when the test says so."""

from __future__ import annotations

from fractions import Fraction

from oiduna_nb.engine import Engine, EngineConfig
from oiduna_nb.engine.link import LinkSample
from oiduna_nb.engine.timeline import BeatClock


class FakeLink:
    def __init__(self, clock, first_beat: Fraction = Fraction(0)) -> None:
        self.clock = clock
        self.first_beat = first_beat
        self.listener = None
        self.opened_at: float | None = None  # the tempo the engine founded the session with
        self.start_stop_sync = False
        self.closed = False
        self.tempos: list[tuple[float, int | None]] = []  # what the engine pushed, in order
        self.yielding: list[bool] = []  # for each of them: did it come with a loaded session
        self.playing_pushed: list[bool] = []
        self.landed = 0
        self.sample: LinkSample | None = None
        # a session already found when the wrapper first reads Link: (its mapping, peers)
        self.found_at_open: tuple[BeatClock, int] | None = None

    # ---- the wrapper's interface ------------------------------------------------------------

    def open(self, bpm: float, start_stop_sync: bool, listener) -> None:
        self.opened_at, self.start_stop_sync, self.listener = bpm, start_stop_sync, listener
        if self.found_at_open is not None:
            clock, peers = self.found_at_open
            self.say(clock, peers=peers, playing=False)
        else:
            self.say(BeatClock(self.first_beat, self.clock.now_ns(), bpm), peers=0, playing=False)

    def close(self) -> None:
        self.closed, self.listener = True, None

    def push_tempo(self, bpm: float, at_ns: int | None, yields: bool = False) -> None:
        self.tempos.append((bpm, at_ns))
        self.yielding.append(yields)

    def push_playing(self, playing: bool) -> None:
        self.playing_pushed.append(playing)

    def set_start_stop_sync(self, enabled: bool) -> None:
        self.start_stop_sync = enabled

    # ---- the session, as the test plays it --------------------------------------------------

    @property
    def mapping(self) -> BeatClock:
        return self.sample.clock

    def say(self, clock: BeatClock, peers: int | None = None, playing: bool | None = None,
            own: bool = False, adopt: bool = False) -> None:
        last = self.sample
        self.sample = LinkSample(
            clock,
            peers if peers is not None else last.peers,
            playing if playing is not None else last.playing,
            own,
            adopt,
        )
        if self.listener is not None:
            self.listener(self.sample)

    def peer_sets_tempo(self, bpm: float, at_ns: int | None = None) -> BeatClock:
        """A peer turns the session to ``bpm`` at ``at_ns`` (default now): beats stay where they
        were at that instant, as Link keeps them."""
        at = self.clock.now_ns() if at_ns is None else at_ns
        clock = BeatClock(self.mapping.beat_at(at), at, bpm)
        self.say(clock)
        return clock

    def land_pushed(self, count: int | None = None) -> BeatClock:
        """Link takes what the engine pushed (the next ``count`` tempos, default all): each
        turns the session at its time and comes back as our own (the wrapper knows its echo)."""
        end = len(self.tempos) if count is None else self.landed + count
        for bpm, at_ns in self.tempos[self.landed:end]:
            at = self.clock.now_ns() if at_ns is None else at_ns
            self.say(BeatClock(self.mapping.beat_at(at), at, bpm), own=True)
        self.landed = end
        return self.mapping


def linked_engine(clock, osc_peer, fake: "FakeLink") -> Engine:
    """An engine on the manual clock (no thread, no MIDI) whose Link peer is ``fake``."""
    from .conftest import no_midi

    return Engine(EngineConfig(osc_port=osc_peer.port, lookahead=0.1), clock=clock, midi=no_midi(),
                  run_thread=False, link=lambda: fake)
