"""VP9 recorded as received: the payload descriptor parsed (picture id, flexible references, the
scalability structure), frames gathered from their packets, the size from the scalability structure
or from the keyframe's own header; decoded back frame for frame."""

from __future__ import annotations

import fractions

import av
import numpy as np
import pytest
from aiortc.rtp import RtpPacket

from control.recording.recorder import Recorder
from control.recording.tracks import Track
from control.recording.vp9 import describe, keyframe_size

TRACK = Track(5, "p.camera.1", "p", "camera", "video", "vp9", 90000)
WIDTH, HEIGHT = 176, 144


def encoded(count: int) -> list[tuple[bytes, bool]]:
    encoder = av.CodecContext.create("libvpx-vp9", "w")
    encoder.width, encoder.height, encoder.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 30)
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    out = []
    for n in range(count):
        picture = np.full((HEIGHT, WIDTH, 3), n * 7 % 256, np.uint8)
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        frame.pts = n
        out += [(bytes(p), p.is_keyframe) for p in encoder.encode(frame)]
    return out


def packetize(frames: list[tuple[bytes, bool]], *, structure: bool) -> list[bytes]:
    """Non-flexible mode with a 15-bit picture id; a keyframe carries the scalability structure when
    `structure`."""
    out, sequence = [], 100
    for n, (data, keyframe) in enumerate(frames):
        chunks = [data[i : i + 300] for i in range(0, len(data), 300)]
        for i, chunk in enumerate(chunks):
            b0 = 0x80 | (0 if keyframe else 0x40) | (0x08 if i == 0 else 0) | (0x04 if i == len(chunks) - 1 else 0)
            extra = b""
            if keyframe and i == 0 and structure:
                b0 |= 0x02
                extra = bytes([0x10]) + WIDTH.to_bytes(2, "big") + HEIGHT.to_bytes(2, "big")
            descriptor = bytes([b0, 0x80 | (n >> 8), n & 0xFF]) + extra
            sequence += 1
            packet = RtpPacket(98, int(i == len(chunks) - 1), sequence, n * 3000, 5, descriptor + chunk)
            out.append(packet.serialize())
    return out


@pytest.mark.parametrize("structure", [True, False], ids=["size-from-structure", "size-from-header"])
async def test_vp9_frames_decode_back(tmp_path, structure: bool) -> None:
    frames = encoded(20)
    assert frames[0][1] and keyframe_size(frames[0][0]) == (WIDTH, HEIGHT)
    recorder = Recorder(tmp_path, lambda ssrc: TRACK)
    await recorder.start()
    for data in packetize(frames, structure=structure):
        recorder.datagram_received(data, ("127.0.0.1", 1))
    manifest = recorder.close()
    [track] = manifest["tracks"]
    assert track["codec"] == "vp9" and track["frames"] == 20
    with av.open(str(tmp_path / track["file"])) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "vp9" and (stream.width, stream.height) == (WIDTH, HEIGHT)
        decoded = list(container.decode(stream))
    assert len(decoded) == 20


def test_descriptor_fields() -> None:
    # I (15-bit id), P, L (non-flexible: layer byte + TL0PICIDX), B, E; spatial layer 1
    d = describe(bytes([0x80 | 0x40 | 0x20 | 0x08 | 0x04, 0x81, 0x02, 0x02, 0x07]) + b"data")
    assert (d.start, d.end, d.inter, d.spatial, d.header) == (True, True, True, 1, 5)
    # flexible with two reference indices, then the scalability structure with a group description
    d = describe(bytes([0x40 | 0x10 | 0x02, 0x03, 0x04, 0x18, 0x00, 0x20, 0x00, 0x10, 0x01, 0x04, 0x05]) + b"x")
    assert d.size == (32, 16) and d.header == 11
    with pytest.raises((IndexError, ValueError)):
        describe(bytes([0x80]))
