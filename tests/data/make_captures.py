"""Regenerates tests/data/captures.bin: real RTP and RTCP as a WebRTC sender and receiver emit them.

    python tests/data/make_captures.py

Video: a synthetic 320x240 picture with the frame number drawn in, encoded with VP8 by PyAV through
aiortc's Vp8Encoder (which also writes the VP8 payload descriptors). Audio: a 440 Hz tone encoded with
Opus through aiortc's OpusEncoder. Both are packetized by aiortc's RtpPacket with the header
extensions browsers negotiate (mid, abs-send-time, ssrc-audio-level, transport-wide sequence number),
in the one-byte form and, for a second video stream with a long mid and an id above 14, the two-byte
form; a few RTX padding probes carry RTP padding. RTCP: aiortc's SR, RR, SDES, BYE, NACK, PLI and
REMB packets, and FIR and transport-wide feedback built from the same stream, in compounds.

File format: the magic line, then records of (kind: b"P" RTP or b"C" RTCP, label length: u8, label,
length: u16 big-endian, datagram).
"""

from __future__ import annotations

import fractions
import struct
import sys
from pathlib import Path

import av
import numpy as np
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import (
    HeaderExtensionsMap,
    RtcpByePacket,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
    RtpPacket,
    pack_remb_fci,
    pack_rtcp_packet,
)

MAGIC = b"PODIUM-CAPTURES/1\n"
OUTPUT = Path(__file__).with_name("captures.bin")

VIDEO_SSRC, VIDEO2_SSRC, RTX_SSRC, AUDIO_SSRC, RECEIVER_SSRC = (
    0x1A2B3C4D,
    0x22223333,
    0x5E6F7A8B,
    0x0BADCAFE,
    0x00C0FFEE,
)
VP8_PT, RTX_PT, OPUS_PT = 96, 97, 111
VIDEO_FRAMES, AUDIO_FRAMES = 24, 40

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
TWCC_URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

# A 3x5 bitmap font for the frame number.
DIGITS = [
    "111101101101111",
    "010110010010111",
    "111001111100111",
    "111001111001111",
    "101101111001001",
    "111100111001111",
    "111100111101111",
    "111001001001001",
    "111101111101111",
    "111101111001111",
]


def extensions_map(ids: dict[str, int]) -> HeaderExtensionsMap:
    parameters = RTCRtpParameters(
        headerExtensions=[RTCRtpHeaderExtensionParameters(id=ext_id, uri=uri) for uri, ext_id in ids.items()]
    )
    result = HeaderExtensionsMap()
    result.configure(parameters)
    return result


def video_frame(number: int) -> av.VideoFrame:
    y, x = np.mgrid[0:240, 0:320]
    image = np.zeros((240, 320, 3), np.uint8)
    image[..., 0] = (x + 4 * number) % 256  # a moving gradient, so inter frames change
    image[..., 1] = (y * 2) % 256
    image[..., 2] = 96
    for position, digit in enumerate(f"{number:03d}"):
        bits = DIGITS[int(digit)]
        for row in range(5):
            for column in range(3):
                if bits[row * 3 + column] == "1":
                    top, left = 60 + row * 24, 70 + position * 64 + column * 16
                    image[top : top + 24, left : left + 16] = 255
    frame = av.VideoFrame.from_ndarray(image, format="rgb24")
    frame.pts = number * 3000
    frame.time_base = fractions.Fraction(1, 90000)
    return frame


def audio_frame(number: int) -> av.AudioFrame:
    samples = 960
    t = (np.arange(samples) + number * samples) / 48000
    tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(np.repeat(tone, 2).reshape(1, -1), format="s16", layout="stereo")
    frame.sample_rate = 48000
    frame.pts = number * samples
    frame.time_base = fractions.Fraction(1, 48000)
    return frame


def abs_send_time(ms: int) -> int:
    """6.18 fixed-point seconds, 24 bits."""
    return (ms * (1 << 18) // 1000) & 0xFFFFFF


def twcc_fci(base: int, arrivals: list[int | None], reference_ms: int, feedback_count: int) -> bytes:
    """Transport-wide feedback FCI: one status vector chunk per 7 packets (2-bit symbols), deltas."""
    out = struct.pack("!HH", base, len(arrivals)) + struct.pack("!I", (reference_ms // 64) << 8 | feedback_count)
    deltas = b""
    previous = reference_ms // 64 * 64 * 4  # in 250 us units
    symbols = []
    for arrival in arrivals:
        if arrival is None:
            symbols.append(0)
            continue
        delta = arrival * 4 - previous
        previous = arrival * 4
        if 0 <= delta <= 255:
            symbols.append(1)
            deltas += struct.pack("!B", delta)
        else:
            symbols.append(2)
            deltas += struct.pack("!h", delta)
    for i in range(0, len(symbols), 7):
        group = symbols[i : i + 7] + [0] * (7 - len(symbols[i : i + 7]))
        chunk = 0xC000
        for j, symbol in enumerate(group):
            chunk |= symbol << (12 - 2 * j)
        out += struct.pack("!H", chunk)
    out += deltas
    return out + bytes(-len(out) % 4)


def records() -> list[tuple[bytes, str, bytes]]:
    out: list[tuple[bytes, str, bytes]] = []
    one_byte = extensions_map({MID_URI: 1, ABS_SEND_TIME_URI: 2, TWCC_URI: 3, AUDIO_LEVEL_URI: 4})
    two_byte = extensions_map({MID_URI: 1, ABS_SEND_TIME_URI: 2, TWCC_URI: 3, RID_URI: 20})
    transport_seq = 1000
    now_ms = 5000
    arrivals: list[int | None] = []

    encoder = Vp8Encoder()
    encoder.picture_id = 100
    sequence = 20000
    for number in range(VIDEO_FRAMES):
        payloads, timestamp = encoder.encode(video_frame(number), force_keyframe=number == 12)
        for i, payload in enumerate(payloads):
            packet = RtpPacket(VP8_PT, int(i == len(payloads) - 1), sequence, 123456 + timestamp, VIDEO_SSRC, payload)
            packet.extensions.mid = "0"
            packet.extensions.abs_send_time = abs_send_time(now_ms)
            packet.extensions.transport_sequence_number = transport_seq
            out.append((b"P", f"vp8 frame {number}", packet.serialize(one_byte)))
            arrivals.append(None if transport_seq % 17 == 0 else now_ms + 3)
            sequence, transport_seq = sequence + 1, transport_seq + 1
        now_ms += 33
        if number % 8 == 0:
            # The second stream: a simulcast layer with a long mid, so aiortc writes the two-byte form.
            packet = RtpPacket(VP8_PT, 1, 300 + number, 777 + timestamp, VIDEO2_SSRC, payloads[0])
            packet.extensions.mid = "camera-and-screen-share-1"
            packet.extensions.rtp_stream_id = "hi"
            packet.extensions.abs_send_time = abs_send_time(now_ms)
            packet.extensions.transport_sequence_number = transport_seq
            out.append((b"P", f"vp8 two-byte {number}", packet.serialize(two_byte)))
            arrivals.append(now_ms + 4)
            transport_seq += 1

    # RTX padding probes (bandwidth estimation), with aiortc's random padding bytes.
    for i, size in enumerate((1, 56, 255)):
        packet = RtpPacket(RTX_PT, 0, 500 + i, 999, RTX_SSRC, b"")
        packet.padding_size = size
        packet.extensions.transport_sequence_number = transport_seq
        out.append((b"P", f"rtx padding {size}", packet.serialize(one_byte)))
        transport_seq += 1

    audio = OpusEncoder()
    for number in range(AUDIO_FRAMES):
        payloads, timestamp = audio.encode(audio_frame(number))
        for payload in payloads:
            packet = RtpPacket(OPUS_PT, int(number == 0), 40000 + number, 5555 + timestamp, AUDIO_SSRC, payload)
            packet.extensions.mid = "1"
            packet.extensions.audio_level = (True, 30)
            packet.extensions.transport_sequence_number = transport_seq
            out.append((b"P", f"opus {number}", packet.serialize(one_byte)))
            transport_seq += 1

    sender_info = RtcpSenderInfo(
        ntp_timestamp=0xE8F2A1B2C3D4E5F6, rtp_timestamp=123456, packet_count=sequence - 20000, octet_count=41234
    )
    report = RtcpReceiverInfo(
        ssrc=VIDEO_SSRC,
        fraction_lost=3,
        packets_lost=2,
        highest_sequence=sequence - 1,
        jitter=17,
        lsr=0xA1B2C3D4,
        dlsr=6554,
    )
    audio_report = RtcpReceiverInfo(
        ssrc=AUDIO_SSRC,
        fraction_lost=0,
        packets_lost=0,
        highest_sequence=40000 + AUDIO_FRAMES - 1,
        jitter=4,
        lsr=0,
        dlsr=0,
    )
    sdes = RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=VIDEO_SSRC, items=[(1, b"podium-sender@example")])])
    rtcp = [
        ("sr+sdes", bytes(RtcpSrPacket(ssrc=VIDEO_SSRC, sender_info=sender_info)) + bytes(sdes)),
        (
            "sr with report+sdes",
            bytes(RtcpSrPacket(ssrc=AUDIO_SSRC, sender_info=sender_info, reports=[audio_report])) + bytes(sdes),
        ),
        ("rr", bytes(RtcpRrPacket(ssrc=RECEIVER_SSRC, reports=[report, audio_report]))),
        (
            "rr+sdes",
            bytes(RtcpRrPacket(ssrc=RECEIVER_SSRC, reports=[report]))
            + bytes(
                RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=RECEIVER_SSRC, items=[(1, b"viewer"), (2, b"A Viewer")])])
            ),
        ),
        (
            "rr+nack",
            bytes(RtcpRrPacket(ssrc=RECEIVER_SSRC))
            + bytes(
                RtcpRtpfbPacket(fmt=1, ssrc=RECEIVER_SSRC, media_ssrc=VIDEO_SSRC, lost=[20003, 20005, 20006, 20030])
            ),
        ),
        ("nack", bytes(RtcpRtpfbPacket(fmt=1, ssrc=RECEIVER_SSRC, media_ssrc=VIDEO_SSRC, lost=[20010]))),
        (
            "rr+pli",
            bytes(RtcpRrPacket(ssrc=RECEIVER_SSRC))
            + bytes(RtcpPsfbPacket(fmt=1, ssrc=RECEIVER_SSRC, media_ssrc=VIDEO_SSRC)),
        ),
        ("pli", bytes(RtcpPsfbPacket(fmt=1, ssrc=RECEIVER_SSRC, media_ssrc=VIDEO_SSRC))),
        ("fir", pack_rtcp_packet(206, 4, struct.pack("!LL", RECEIVER_SSRC, 0) + struct.pack("!LB3x", VIDEO_SSRC, 7))),
        (
            "rr+remb",
            bytes(RtcpRrPacket(ssrc=RECEIVER_SSRC))
            + bytes(
                RtcpPsfbPacket(
                    fmt=15, ssrc=RECEIVER_SSRC, media_ssrc=0, fci=pack_remb_fci(1_234_567, [VIDEO_SSRC, VIDEO2_SSRC])
                )
            ),
        ),
        (
            "twcc",
            pack_rtcp_packet(
                205, 15, struct.pack("!LL", RECEIVER_SSRC, VIDEO_SSRC) + twcc_fci(1000, arrivals[:60], 5000, 1)
            ),
        ),
        (
            "rr+twcc",
            bytes(RtcpRrPacket(ssrc=RECEIVER_SSRC))
            + pack_rtcp_packet(
                205, 15, struct.pack("!LL", RECEIVER_SSRC, VIDEO_SSRC) + twcc_fci(1060, arrivals[60:90], 7000, 2)
            ),
        ),
        ("bye", bytes(RtcpByePacket(sources=[VIDEO_SSRC, AUDIO_SSRC]))),
        (
            "sr+sdes+bye",
            bytes(RtcpSrPacket(ssrc=VIDEO_SSRC, sender_info=sender_info))
            + bytes(sdes)
            + bytes(RtcpByePacket(sources=[VIDEO_SSRC])),
        ),
    ]
    out += [(b"C", label, data) for label, data in rtcp]
    return out


def write(path: Path, items: list[tuple[bytes, str, bytes]]) -> None:
    with path.open("wb") as f:
        f.write(MAGIC)
        for kind, label, data in items:
            encoded = label.encode()
            f.write(kind + bytes((len(encoded),)) + encoded + struct.pack("!H", len(data)) + data)


def read(path: Path = OUTPUT) -> list[tuple[str, str, bytes]]:
    """The records of a captures file: ("rtp" or "rtcp", label, datagram)."""
    blob = path.read_bytes()
    if not blob.startswith(MAGIC):
        raise ValueError(f"{path} is not a captures file")
    pos, out = len(MAGIC), []
    while pos < len(blob):
        kind, label_length = blob[pos : pos + 1], blob[pos + 1]
        label = blob[pos + 2 : pos + 2 + label_length].decode()
        pos += 2 + label_length
        (length,) = struct.unpack_from("!H", blob, pos)
        data = blob[pos + 2 : pos + 2 + length]
        if len(data) != length:
            raise ValueError(f"{path} has a truncated record")
        out.append(("rtp" if kind == b"P" else "rtcp", label, data))
        pos += 2 + length
    return out


if __name__ == "__main__":
    items = records()
    write(OUTPUT, items)
    print(f"{OUTPUT}: {len(items)} datagrams, {OUTPUT.stat().st_size} bytes", file=sys.stderr)
