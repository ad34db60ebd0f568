"""The recorder of one meeting: a UDP socket on loopback that a worker's plain transport sends the
meeting's consumers to, demultiplexed by SSRC into one WebM file per track plus the mixed audio.

It runs as a task of the control plane's loop (datagram callbacks, no thread). Which SSRC is which
track the service knows (the consumers it made on the recorder's transport): `resolve` is asked for
an SSRC until it knows it. The worker may send a new consumer's first packets (the keyframe a video
file starts with) before the control plane has swapped in the records naming it, so the packets of
an SSRC not known yet wait (up to `PENDING` of them) and are written once it is; those of an SSRC
never known (an RTX stream) are dropped and counted. `close()` finalises every file (trailers and
cues written) and returns the manifest of what was recorded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from control.recording.mixer import RATE, Mixer
from control.recording.rtp import Unwrapper, parse
from control.recording.tracks import Track, TrackFile, Vp8Assembler
from control.recording.vp9 import Vp9Assembler

MIXED = "mixed"
PENDING = 512
"""Packets kept per SSRC not known yet (a few seconds of video)."""
PENDING_SSRCS = 32
MANIFEST = "manifest.json"


class _Input:
    """One SSRC as it arrives: its file, and for Opus its place on the mixed timeline."""

    def __init__(self, track: Track, file: TrackFile, start_sample: int) -> None:
        self.track = track
        self.file = file
        self.assembler: Vp8Assembler | Vp9Assembler | None = (
            Vp8Assembler() if track.codec == "vp8" else Vp9Assembler() if track.codec == "vp9" else None
        )
        self.start_sample = start_sample
        self.clock = Unwrapper()


class Recorder(asyncio.DatagramProtocol):
    def __init__(self, directory: Path, resolve: Callable[[int], Track | None]) -> None:
        self.directory = directory
        self.resolve = resolve
        self.inputs: dict[int, _Input] = {}
        self.counters = {"datagrams": 0, "rtcp": 0, "malformed": 0, "unknown_ssrc": 0, "unsupported": 0}
        self._transport: asyncio.DatagramTransport | None = None
        self._started = 0.0
        self._mixer: Mixer | None = None
        self._ignored: set[int] = set()
        self._pending: dict[int, list[bytes]] = {}

    async def start(self, host: str = "127.0.0.1") -> tuple[str, int]:
        """Bind on `host` (loopback: the worker on this host sends to it); the address bound."""
        self.directory.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        self._started = loop.time()
        self._mixer = Mixer(self.directory / f"{MIXED}.webm")
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, 0))
        self._transport = transport
        address = transport.get_extra_info("sockname")
        return address[0], address[1]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.counters["datagrams"] += 1
        packet = parse(data)
        if packet is None:
            rtcp = len(data) >= 2 and 72 <= data[1] & 0x7F <= 76  # the worker's sender reports
            self.counters["rtcp" if rtcp else "malformed"] += 1
            return
        entry = self.inputs.get(packet.ssrc)
        if entry is None:
            entry = self._new_input(packet.ssrc)
            if entry is None:
                self._wait(packet.ssrc, data)
                return
            for earlier in self._pending.pop(packet.ssrc, []):
                self._write(entry, earlier)
        self._write(entry, data)

    def _wait(self, ssrc: int, data: bytes) -> None:
        if ssrc in self._ignored:
            return
        waiting = self._pending.get(ssrc)
        if waiting is None:
            if len(self._pending) >= PENDING_SSRCS:
                self.counters["unknown_ssrc"] += 1
                return
            waiting = self._pending[ssrc] = []
        if len(waiting) >= PENDING:
            self.counters["unknown_ssrc"] += 1
            waiting.pop(0)
        waiting.append(data)

    def _write(self, entry: _Input, data: bytes) -> None:
        packet = parse(data)
        assert packet is not None  # parsed once already
        if entry.assembler is not None:
            frame = entry.assembler.push(packet)
            if frame is not None:
                entry.file.write(frame[0], packet.timestamp, frame[1], frame[2])
            return
        written = entry.file.write(packet.payload, packet.timestamp, True)
        if written and self._mixer is not None:  # a repeated packet is mixed once
            position = entry.start_sample + entry.clock(packet.timestamp) * RATE // entry.track.clock_rate
            self._mixer.add(packet.ssrc, packet.payload, position)

    def _new_input(self, ssrc: int) -> _Input | None:
        if ssrc in self._ignored:
            self.counters["unsupported"] += 1
            return None
        track = self.resolve(ssrc)
        if track is None:
            return None
        if track.codec not in ("vp8", "vp9", "opus"):
            self.counters["unsupported"] += 1
            self._ignored.add(ssrc)
            self._pending.pop(ssrc, None)
            return None
        offset = asyncio.get_running_loop().time() - self._started
        entry = _Input(track, TrackFile(track, self.directory, offset), int(offset * RATE))
        self.inputs[ssrc] = entry
        return entry

    def close(self) -> dict[str, Any]:
        """Stop receiving and finalise every file; the manifest (also written as manifest.json)."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self.counters["unknown_ssrc"] += sum(len(waiting) for waiting in self._pending.values())
        self._pending.clear()
        tracks = []
        for entry in self.inputs.values():
            entry.file.close()
            if entry.file.frames:
                t = entry.track
                tracks.append(
                    {
                        "file": entry.file.path.name,
                        "participant": t.participant,
                        "source": t.source,
                        "kind": t.kind,
                        "codec": t.codec,
                        "offset": round(entry.file.offset, 3),
                        "duration": round(entry.file.duration, 3),
                        "frames": entry.file.frames,
                        "dropped": entry.file.dropped + (entry.assembler.incomplete if entry.assembler else 0),
                    }
                )
        mixed = None
        if self._mixer is not None:
            self._mixer.close()
            mixed = {"file": self._mixer.path.name, "duration": round(self._mixer.duration, 3)}
            self._mixer = None
        manifest = {"tracks": tracks, "mixed": mixed, "counters": dict(self.counters)}
        (self.directory / MANIFEST).write_text(json.dumps(manifest, indent=1))
        return manifest
