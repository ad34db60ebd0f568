"""The recorder's input: packets of an SSRC not known yet wait and are written once it is (the
keyframe a file starts with may come before the control plane swapped in the consumer's records);
malformed datagrams and never-known SSRCs are dropped and counted; a file starts at a keyframe."""

from __future__ import annotations

import asyncio
import fractions

import av
import numpy as np
from aiortc.codecs import Vp8Encoder
from aiortc.rtp import RtpPacket

from control.recording.recorder import Recorder
from control.recording.rtp import Unwrapper, parse
from control.recording.tracks import Track

TRACK = Track(9, "p.camera.1", "p", "camera", "video", "vp8", 90000)


def frames(count: int) -> list[bytes]:
    encoder, out, sequence = Vp8Encoder(), [], 0
    for n in range(count):
        frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), n * 9 % 256, np.uint8), format="rgb24")
        frame.pts, frame.time_base = n * 3000, fractions.Fraction(1, 90000)
        payloads, timestamp = encoder.encode(frame, force_keyframe=n == 0)
        for i, payload in enumerate(payloads):
            sequence += 1
            packet = RtpPacket(96, int(i == len(payloads) - 1), sequence, timestamp, 9, payload)
            out.append(packet.serialize())
    return out


async def test_packets_wait_for_their_ssrc_to_be_known(tmp_path) -> None:
    known = False
    recorder = Recorder(tmp_path, lambda ssrc: TRACK if known and ssrc == 9 else None)
    await recorder.start()
    packets = frames(30)
    for data in packets[:10]:
        recorder.datagram_received(data, ("127.0.0.1", 1))
    recorder.datagram_received(b"\x00garbage", ("127.0.0.1", 1))
    unknown = RtpPacket(96, 1, 1, 0, 77, b"\x10\x00").serialize()
    recorder.datagram_received(unknown, ("127.0.0.1", 1))
    known = True
    for data in packets[10:]:
        recorder.datagram_received(data, ("127.0.0.1", 1))
    manifest = recorder.close()
    assert manifest["counters"]["malformed"] == 1
    assert manifest["counters"]["unknown_ssrc"] == 1  # SSRC 77, never known
    [track] = manifest["tracks"]
    with av.open(str(tmp_path / track["file"])) as container:
        decoded = list(container.decode(video=0))
    assert len(decoded) == 30 and (decoded[0].width, decoded[0].height) == (160, 120)


async def test_a_video_file_starts_at_a_keyframe(tmp_path) -> None:
    recorder = Recorder(tmp_path, lambda ssrc: TRACK)
    await recorder.start()
    packets = frames(5)
    keyframe_end = next(i for i, d in enumerate(packets) if parse(d).marker)  # type: ignore[union-attr]
    for data in packets[keyframe_end + 1 :]:
        recorder.datagram_received(data, ("127.0.0.1", 1))
    manifest = recorder.close()
    assert manifest["tracks"] == []  # no keyframe came: no file worth listing
    await asyncio.sleep(0)


def test_timestamps_unwrap() -> None:
    clock = Unwrapper()
    assert [clock(t) for t in (2**32 - 10, 2**32 - 5, 3, 1)] == [0, 5, 13, 11]


async def test_late_and_repeated_frames_are_dropped_and_counted(tmp_path) -> None:
    recorder = Recorder(tmp_path, lambda ssrc: TRACK)
    await recorder.start()
    packets = frames(10)
    late = packets[-1]
    for data in packets[:-1]:
        recorder.datagram_received(data, ("127.0.0.1", 1))
    for data in packets[:-1][-3:]:  # a repeated tail (a retransmitted frame): older than the newest
        recorder.datagram_received(data, ("127.0.0.1", 1))
    recorder.datagram_received(late, ("127.0.0.1", 1))
    recorder.datagram_received(bytes([0x80, 200]) + bytes(26), ("127.0.0.1", 1))  # RTCP: counted apart
    manifest = recorder.close()
    [track] = manifest["tracks"]
    assert track["dropped"] >= 1 and manifest["counters"]["rtcp"] == 1
    with av.open(str(tmp_path / track["file"])) as container:
        assert len(list(container.decode(video=0))) == track["frames"]
