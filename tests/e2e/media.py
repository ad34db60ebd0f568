"""Synthetic media one can recognise after VP8/Opus: a frame number drawn as black and white
blocks, and a pure tone per publisher (found again with an FFT)."""

from __future__ import annotations

import fractions

import av
import numpy as np
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

WIDTH, HEIGHT = 320, 240
BITS = 16  # frame numbers up to 65535
GRID = (4, 4)  # BITS blocks of 80x60 pixels: big enough to survive VP8 at any rate
SAMPLE_RATE = 48000
SAMPLES = 960  # 20 ms


def draw_number(number: int) -> np.ndarray:
    """A gray picture: block i is white when bit i of `number` is set."""
    rows, cols = GRID
    bh, bw = HEIGHT // rows, WIDTH // cols
    picture = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    for bit in range(BITS):
        if number >> bit & 1:
            r, c = divmod(bit, cols)
            picture[r * bh : (r + 1) * bh, c * bw : (c + 1) * bw] = 255
    return picture


def read_number(frame: av.VideoFrame) -> int:
    """The number drawn by draw_number, read from the centre of each block of a decoded frame."""
    picture = frame.reformat(width=WIDTH, height=HEIGHT, format="gray").to_ndarray()
    rows, cols = GRID
    bh, bw = HEIGHT // rows, WIDTH // cols
    number = 0
    for bit in range(BITS):
        r, c = divmod(bit, cols)
        centre = picture[r * bh + bh // 4 : (r + 1) * bh - bh // 4, c * bw + bw // 4 : (c + 1) * bw - bw // 4]
        if centre.mean() > 128:
            number |= 1 << bit
    return number


class NumberedVideoTrack(VideoStreamTrack):
    """30 frames per second, frame n showing the number n."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        gray = draw_number(self.sent)
        frame = av.VideoFrame.from_ndarray(np.stack([gray] * 3, axis=-1), format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        self.sent += 1
        return frame


class ToneAudioTrack(AudioStreamTrack):
    """A sine at `frequency` Hz, 48 kHz mono, in 20 ms frames; `amplitude` (of full scale) may change
    while it plays (aiortc writes each frame's level in the RFC 6464 audio-level extension)."""

    def __init__(self, frequency: float, amplitude: float = 0.5) -> None:
        super().__init__()
        self.frequency = frequency
        self.amplitude = amplitude
        self._samples = 0

    async def recv(self) -> av.AudioFrame:
        await super().recv()  # paces at real time (and keeps the base class's clock)
        t = (self._samples + np.arange(SAMPLES)) / SAMPLE_RATE
        wave = (self.amplitude * 32767 * np.sin(2 * np.pi * self.frequency * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(wave.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._samples
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._samples += SAMPLES
        return frame


def dominant_frequency(frames: list[av.AudioFrame]) -> float:
    """The strongest frequency of the decoded frames (first channel)."""
    samples = np.concatenate(
        [
            f.to_ndarray().reshape(-1, len(f.layout.channels))[:, 0] if f.format.is_packed else f.to_ndarray()[0]
            for f in frames
        ]
    ).astype(np.float64)
    rate = frames[0].sample_rate
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    spectrum[0] = 0
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])
