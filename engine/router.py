"""Router: the media side of one meeting inside a worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contract.speaker import DominantSpeaker
from engine.errors import EngineError
from engine.events import AudioLevels, DominantSpeakerChanged
from engine.gate import Closable
from engine.transport import Address, Transport
from engine.webrtc.dtls import SrtpProfile
from engine.webrtc.transport import WebRtcTransport

if TYPE_CHECKING:
    from engine.engine import Engine


class Router(Closable):
    """The media side of one meeting inside a worker."""

    noun = "router"

    def __init__(self, engine: Engine, router_id: int) -> None:
        super().__init__(engine, router_id, engine)
        self.transports: dict[int, Transport] = {}
        self.speaker = DominantSpeaker()
        """Who of the router's audio producers speaks (contract.speaker): decided every engine tick."""
        self._reported = False
        """Whether the last tick reported levels (AudioLevels): the next one says when they end."""
        self._spanned = False
        self.audio_producers = 0
        """Open audio producers on the router's transports (Transport.produce, Producer._forget)."""
        self.speaker_quiet = True
        """After the last decision: no audio producer, no levels reported, nobody speaking, not
        spanning workers. Such a router without audio producers and still not spanning has nothing
        to feed, report or undo: the engine's speaker tick skips it (a worker's thousand meetings
        without microphones took 1.5 ms a tick)."""

    def _decide_speaker(self, now: float, elapsed: float, spans: bool | None = None) -> None:
        """Feeds the open audio producers' levels to the detector; reports a new dominant speaker.
        A closed gate (muted, revoked) makes a producer no candidate; the levels it sent before are
        dropped. While the meeting spans workers (`spans`; None: found out) the levels are reported
        too (AudioLevels: the control plane decides among every worker's), and when it stops
        spanning the router's own decision is reported again."""
        detector, before = self.speaker, self.speaker.dominant
        if spans is None:
            spans = self.id in self.engine._spanning_routers()
        open_ids: set[object] = set()
        reported: list[tuple[int, str]] = []
        for transport in self.transports.values():
            if transport.pipe:
                continue  # copies of other workers' producers: their origin reports them
            for producer in transport.producers.values():
                if producer.kind != "audio":
                    continue
                levels = self.engine._core.take_levels(producer.id)
                if not producer.paused:
                    open_ids.add(producer.id)
                    detector.feed(producer.id, levels, elapsed)
                    if spans:
                        reported.append((producer.id, levels.hex()))
        if reported or self._reported:  # an empty report ends the reports
            self.engine._emit(AudioLevels(self.id, elapsed, tuple(reported)))
        self._reported = spans and bool(reported)
        detector.keep_only(open_ids)
        after = detector.decide(now)
        if after != before or (self._spanned and not spans):
            self.engine._emit(DominantSpeakerChanged(self.id, after if isinstance(after, int) else None))
        self._spanned = spans
        self.speaker_quiet = (
            not self.audio_producers
            and not self._reported
            and after is None
            and not detector.candidates()
            and not spans
        )

    def create_plain_transport(self, remote: Address, *, pipe: bool = False) -> Transport:
        """Plain RTP/RTCP to and from a fixed remote address, no encryption. `pipe`: to another
        worker, carrying the producers of every router both share (its address is the other
        worker's socket, which one transport per worker can hold): it consumes producers of any
        router and its producers may be consumed in any router."""
        self._check()
        engine = self.engine
        host, port = remote
        transport = Transport(self, next(engine._ids), (host, int(port)), pipe=pipe)
        try:
            engine._core.add_transport(transport.id, self.id, host, int(port), pipe=pipe)
        except ValueError as error:
            raise EngineError(str(error)) from None
        self.transports[transport.id] = transport
        if pipe:
            engine._pipes.add(transport)
        engine._applied()
        return transport

    def create_webrtc_transport(
        self,
        ice_ufrag: str | None = None,
        ice_pwd: str | None = None,
        srtp_profiles: list[SrtpProfile] | tuple[SrtpProfile, ...] | None = None,
    ) -> WebRtcTransport:
        """ICE-lite + DTLS-SRTP on the worker's socket: credentials generated when None; the SRTP
        profiles offered in DTLS default to GCM, then AES-CM with SHA1-80, then SHA1-32."""
        self._check()
        engine = self.engine
        transport = WebRtcTransport(self, next(engine._ids), ice_ufrag, ice_pwd, srtp_profiles)
        engine._core.add_transport(transport.id, self.id)
        try:
            engine.webrtc.register(transport)
        except BaseException:
            engine._core.remove_transport(transport.id)
            raise
        self.transports[transport.id] = transport
        engine._announcing.add(transport)
        engine._applied()
        return transport

    def _children(self) -> list[Closable]:
        return list(self.transports.values())

    def _forget(self) -> None:
        self.engine.routers.pop(self.id, None)
