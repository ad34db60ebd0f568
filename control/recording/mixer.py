"""The mixed-audio track: every Opus track decoded (PyAV), summed on the recording's timeline,
encoded again as Opus into ``mixed.webm``.

A track's samples land at (its offset in the recording + its RTP timestamp since its first packet);
a source that stops sending (muted, revoked, gone) simply adds nothing. Mixed samples more than
`LAG` behind the newest are encoded and forgotten, so memory stays bounded."""

from __future__ import annotations

import fractions
from pathlib import Path
from typing import Any

import av
import numpy as np

RATE = 48000
FRAME = 960
LAG = RATE  # one second: late packets of a track within it are still mixed


class Mixer:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._container: Any = av.open(str(path), "w", format="webm")
        self._stream: Any = self._container.add_stream("libopus", rate=RATE, layout="mono")
        self._stream.bit_rate = 64000
        self._buffer = np.zeros(0, dtype=np.float32)
        self._base = 0
        """The recording's sample index of `_buffer[0]` (everything before is encoded)."""
        self._decoders: dict[int, Any] = {}
        self.late = 0

    def add(self, ssrc: int, data: bytes, position: int) -> None:
        """Decode one Opus packet of track `ssrc` whose first sample is at `position`."""
        decoder: Any = self._decoders.get(ssrc)
        if decoder is None:
            decoder = self._decoders[ssrc] = av.CodecContext.create("opus", "r")
        try:
            frames = decoder.decode(av.Packet(data))
        except av.FFmpegError:
            return
        for frame in frames:
            samples = frame.to_ndarray().astype(np.float32)
            if frame.format.is_packed:
                samples = samples.reshape(-1, len(frame.layout.channels)).T
            mono = samples.mean(axis=0)
            self._mix(mono, position)
            position += mono.shape[0]
        self._flush(keep=LAG)

    def _mix(self, samples: np.ndarray, position: int) -> None:
        start = position - self._base
        if start < 0:
            samples = samples[-start:]
            self.late += 1
            start = 0
        end = start + samples.shape[0]
        if end > self._buffer.shape[0]:
            self._buffer = np.concatenate([self._buffer, np.zeros(end - self._buffer.shape[0], dtype=np.float32)])
        self._buffer[start:end] += samples

    def _flush(self, keep: int) -> None:
        ready = (max(self._buffer.shape[0] - keep, 0) // FRAME) * FRAME
        if ready == 0:
            return
        chunk = np.clip(self._buffer[:ready], -1.0, 1.0)
        self._buffer = self._buffer[ready:]
        for i in range(0, ready, FRAME):
            frame = av.AudioFrame.from_ndarray(chunk[i : i + FRAME].reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = RATE
            frame.pts = self._base + i
            frame.time_base = fractions.Fraction(1, RATE)
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        self._base += ready

    def close(self) -> None:
        padding = (-self._buffer.shape[0]) % FRAME
        if padding:
            self._buffer = np.concatenate([self._buffer, np.zeros(padding, dtype=np.float32)])
        self._flush(keep=0)
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()

    @property
    def duration(self) -> float:
        return (self._base + self._buffer.shape[0]) / RATE
