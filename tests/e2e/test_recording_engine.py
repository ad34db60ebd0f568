"""The recorder fed by the engine's plain transport: RTP published into a worker, consumed on a
plain transport whose remote is the recorder's loopback port, written as WebM and decoded back.

Frames carry their number drawn in the picture, microphones pure tones: the per-track files must
hold the frames in order and the tones, the mixed track both tones, every duration close to what
was sent. A producer paused mid-way stops contributing; one added mid-way is recorded from then."""

from __future__ import annotations

import asyncio
import fractions
import itertools
import json

import av
import numpy as np
from aiortc.codecs import OpusEncoder, Vp8Encoder
from aiortc.rtp import RtpPacket
from media import SAMPLE_RATE, SAMPLES, dominant_frequency, draw_number, read_number

from control.recording.recorder import Recorder
from control.recording.tracks import Track
from engine import Engine

SECONDS = 3.0
TICK = 0.01


class Sender(asyncio.DatagramProtocol):
    """A publisher's RTP: one SSRC per stream, sequence numbers of its own."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.sequence: dict[int, int] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, address: tuple[str, int], ssrc: int, pt: int, timestamp: int, payloads: list[bytes]) -> None:
        assert self.transport is not None
        for i, payload in enumerate(payloads):
            seq = self.sequence.get(ssrc, 1000)
            self.sequence[ssrc] = (seq + 1) % 65536
            packet = RtpPacket(
                payload_type=pt,
                marker=int(i == len(payloads) - 1),
                sequence_number=seq,
                timestamp=timestamp % (1 << 32),
                ssrc=ssrc,
                payload=payload,
            )
            self.transport.sendto(packet.serialize(), address)


def tone(frequency: float, n: int) -> av.AudioFrame:
    t = (n * SAMPLES + np.arange(SAMPLES)) / SAMPLE_RATE
    wave = (0.4 * 32767 * np.sin(2 * np.pi * frequency * t)).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(wave.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, n * SAMPLES, fractions.Fraction(1, SAMPLE_RATE)
    return frame


def picture(n: int) -> av.VideoFrame:
    gray = draw_number(n)
    frame = av.VideoFrame.from_ndarray(np.stack([gray] * 3, axis=-1), format="rgb24")
    frame.pts, frame.time_base = n * 3000, fractions.Fraction(1, 90000)
    return frame


def decode(path, kind: str) -> list:
    with av.open(str(path)) as container:
        stream = container.streams.video[0] if kind == "video" else container.streams.audio[0]
        return list(container.decode(stream))


async def test_recorded_tracks_and_mix_decode_back(tmp_path):
    engine = Engine(host="127.0.0.1", port=0)
    await engine.start()
    loop = asyncio.get_running_loop()
    sock, sender = await loop.create_datagram_endpoint(Sender, local_addr=("127.0.0.1", 0))
    tracks = {
        7001: Track(7001, "alice.camera", "alice", "camera", "video", "vp8", 90000),
        7002: Track(7002, "alice.microphone", "alice", "microphone", "audio", "opus", 48000),
        7003: Track(7003, "bob.microphone", "bob", "microphone", "audio", "opus", 48000),
    }
    recorder = Recorder(tmp_path / "rec", tracks.get)
    try:
        recorder_address = await recorder.start()
        router = engine.create_router()
        publisher = router.create_plain_transport(remote=sock.get_extra_info("sockname"))
        to_recorder = router.create_plain_transport(remote=recorder_address)
        camera = publisher.produce("video", ssrc=1, payload_type=96, clock_rate=90000)
        alice_mic = publisher.produce("audio", ssrc=2, payload_type=111, clock_rate=48000)
        bob_mic = publisher.produce("audio", ssrc=3, payload_type=111, clock_rate=48000)
        to_recorder.consume(camera, ssrc=7001)
        to_recorder.consume(alice_mic, ssrc=7002)
        await engine.wait_version(engine.version)
        engine_address = engine.address
        video, alice, bob = Vp8Encoder(), OpusEncoder(), OpusEncoder()
        ticks = int(SECONDS / TICK)
        began = loop.time()
        for tick in range(ticks):
            if tick == ticks // 3:  # bob's microphone joins a third of the way in
                to_recorder.consume(bob_mic, ssrc=7003)
            if tick == 2 * ticks // 3:  # alice is muted for the last third
                alice_mic.pause()
            if tick % 3 == 0:
                n = tick // 3
                payloads, ts = video.encode(picture(n), force_keyframe=n == 0)
                sender.send(engine_address, 1, 96, ts, payloads)
            if tick % 2 == 0:
                n = tick // 2
                for ssrc, encoder, frequency in ((2, alice, 440.0), (3, bob, 1000.0)):
                    payloads, ts = encoder.encode(tone(frequency, n))
                    sender.send(engine_address, ssrc, 111, ts, payloads)
            await asyncio.sleep(TICK)
        elapsed = loop.time() - began  # the media's RTP time is SECONDS; a loaded machine's wall time more
        await asyncio.sleep(0.2)
    finally:
        manifest = recorder.close()
        sock.close()
        engine.close()

    directory = tmp_path / "rec"
    assert json.loads((directory / "manifest.json").read_text()) == manifest
    by_file = {t["file"]: t for t in manifest["tracks"]}
    assert set(by_file) == {"alice.camera.webm", "alice.microphone.webm", "bob.microphone.webm"}

    frames = decode(directory / "alice.camera.webm", "video")
    numbers = [read_number(f) for f in frames]
    assert len(numbers) >= 0.8 * SECONDS * 30
    assert all(b > a for a, b in itertools.pairwise(numbers))
    assert abs(frames[-1].time - frames[0].time - SECONDS) < 0.5

    alice_audio = decode(directory / "alice.microphone.webm", "audio")
    assert abs(dominant_frequency(alice_audio) - 440) < 10
    assert abs(sum(f.samples for f in alice_audio) / SAMPLE_RATE - SECONDS * 2 / 3) < 0.4  # muted for the last third
    bob_audio = decode(directory / "bob.microphone.webm", "audio")
    assert abs(dominant_frequency(bob_audio) - 1000) < 10
    assert abs(sum(f.samples for f in bob_audio) / SAMPLE_RATE - SECONDS * 2 / 3) < 0.4  # from a third on
    assert 0.2 < by_file["bob.microphone.webm"]["offset"] < 1.6

    mixed = decode(directory / "mixed.webm", "audio")
    samples = np.concatenate([f.to_ndarray().reshape(-1) for f in mixed]).astype(np.float64)
    # the mix is on the recording's timeline: each track from its offset, for its RTP duration
    end = max(t["offset"] + t["duration"] for t in manifest["tracks"] if t["kind"] == "audio")
    assert abs(len(samples) / SAMPLE_RATE - end) < 0.3
    assert abs(manifest["mixed"]["duration"] - len(samples) / SAMPLE_RATE) < 0.1
    assert end < elapsed + 0.3
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)

    def peak(f: float) -> float:
        return float(spectrum[(freqs > f - 15) & (freqs < f + 15)].max())

    noise = float(np.median(spectrum))
    assert peak(440) > 50 * noise and peak(1000) > 50 * noise
