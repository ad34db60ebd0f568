"""A barrage of hostile datagrams against a live meeting (`podium serve`, aiortc participants): the
meeting keeps flowing, and the drop counters GET /metrics exports account for every datagram sent.

The datagrams go to the worker's UDP port on loopback, from two places: a socket of their own (an
address no transport owns) and the publisher's own ICE socket (an address the worker trusts, so the
fast path looks them up and runs SRTP on them). Each kind lands on one counter:

    from a stranger   garbage (first byte outside RFC 7983)  drops{unknown_kind}
                      longer than a receive buffer           drops{oversize}
                      RTP, truncated                         slow path: untrusted_media
                      STUN naming no transport of ours       slow path: stun_unknown_ufrag
                      DTLS from an untrusted address         slow path: dtls_untrusted
    from the publisher  RTP with a forged SRTP tag           drops{srtp_auth}
                        RTP truncated before its header ends drops{srtp_auth} (libsrtp refuses it)
                        valid SRTP with an SSRC nobody has   drops{unknown_ssrc}

A slow-path datagram may also be dropped because the slow-path queue was full (drops{slow_queue_full}):
the three slow-path counters and that one together account for them exactly.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import time
from collections.abc import Callable

import pytest
from media import ToneAudioTrack
from meeting_fixtures import api, people, podium  # noqa: F401
from podium_client import Participant, PodiumServer
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.timeout(120)

WORKER = "local"
PACE = 50
"""Datagrams sent between two pauses: the worker's socket buffer never fills (the kernel drops none)."""


def values(text: str, name: str, **labels: str) -> dict[str, float]:
    """Samples of `name` whose labels include `labels`, by their remaining label values."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                rest = {k: v for k, v in sample.labels.items() if k not in labels}
                out[",".join(f"{k}={v}" for k, v in sorted(rest.items()))] = sample.value
    return out


def counters(text: str) -> dict[str, float]:
    """The worker's drop counters, fast and slow path, and its unknown-source packets."""
    out = {
        f"drops:{k.removeprefix('reason=')}": v
        for k, v in values(text, "podium_engine_drops_total", worker=WORKER).items()
    }
    slow = values(text, "podium_engine_slow_path_drops_total", worker=WORKER)
    out.update({f"slow:{k.removeprefix('reason=')}": v for k, v in slow.items()})
    out["unknown_source"] = values(text, "podium_engine_packets_received_total", worker=WORKER, kind="unknown_source")[
        ""
    ]
    out["srtp_failures"] = values(text, "podium_engine_srtp_failures_total", worker=WORKER)[""]
    return out


def reports(text: str) -> float:
    return values(text, "podium_engine_stats_reports_total", worker=WORKER).get("", 0)


def kernel_drops(port: int) -> int:
    """Datagrams the kernel dropped on the UDP sockets bound to `port` (/proc/net/udp*, last column)."""
    total = 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    total += int(fields[-1])
    return total


def rtp_header(seq: int, ssrc: int, pt: int = 111) -> bytes:
    return struct.pack("!BBHII", 0x80, pt, seq & 0xFFFF, seq * 960, ssrc)


def barrage(rng: random.Random, protect: Callable[[bytes], bytes]) -> dict[str, list[tuple[str, bytes]]]:
    """Datagrams by the counter that must take them, each tagged with where it is sent from."""

    def noise(low: int, high: int) -> bytes:
        return rng.randbytes(rng.randint(low, high))

    unknown_ssrc, forged_ssrc = 0x0BADF00D, 0x5EC0DE
    return {
        "drops:unknown_kind": [("stranger", bytes([rng.randint(64, 127)]) + noise(0, 300)) for _ in range(300)]
        + [("stranger", b"")] * 5,
        "drops:oversize": [("stranger", b"\x80" + noise(1600, 4000)) for _ in range(60)],
        "slow:untrusted_media": [("stranger", b"\x80" + noise(0, 10)) for _ in range(150)],
        "slow:stun_unknown_ufrag": [("stranger", bytes([rng.randint(0, 3)]) + noise(19, 80)) for _ in range(150)],
        "slow:dtls_untrusted": [("stranger", bytes([rng.randint(20, 63)]) + noise(12, 200)) for _ in range(150)],
        "drops:srtp_auth": [
            ("publisher", rtp_header(rng.randint(0, 65535), forged_ssrc) + noise(20, 200)) for _ in range(300)
        ]
        + [("publisher", b"\x80" + noise(0, 10)) for _ in range(100)],
        "drops:unknown_ssrc": [
            ("publisher", protect(rtp_header(seq, unknown_ssrc) + noise(20, 160))) for seq in range(1, 301)
        ],
    }


async def scrape_until(podium: PodiumServer, done: Callable[[str], bool], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    text = await asyncio.to_thread(podium.metrics)
    while not done(text) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        text = await asyncio.to_thread(podium.metrics)
    return text


async def test_hostile_datagrams_are_dropped_counted_and_the_meeting_flows(podium, api, people) -> None:
    room = await api.create_room("Barrage")
    organizer = await Participant.join(podium, api.token, room["id"])
    people.append(organizer)
    user_id, token = await api.create_user("alice")
    await api.grant(room["id"], user_id)
    alice = await Participant.join(podium, token, room["id"])
    people.append(alice)
    await alice.publish(microphone=ToneAudioTrack(440))
    await organizer.publish(microphone=ToneAudioTrack(330))
    assert await organizer.frames_grow(alice.id, "microphone")
    assert await alice.frames_grow(organizer.id, "microphone")

    # alice's publishing transport: her ICE socket, and the SRTP session her packets are protected with
    dtls = alice.pc_pub.getTransceivers()[0].sender.transport
    ice = dtls.transport._connection
    pair = ice._nominated[1]
    worker_port = pair.remote_addr[1]
    rng = random.Random(20261206)
    hostile = barrage(rng, dtls._tx_srtp.protect)
    expected = {name: len(datagrams) for name, datagrams in hostile.items()}

    # the counters before, once two reports in a row agree: the meeting's own traffic lands on none of them
    text = await scrape_until(podium, lambda t: reports(t) > 0)
    before, seen = counters(text), reports(text)
    text = await scrape_until(podium, lambda t, seen=seen: reports(t) > seen)
    while counters(text) != before:
        before, seen = counters(text), reports(text)
        text = await scrape_until(podium, lambda t, seen=seen: reports(t) > seen)
    kernel_before = kernel_drops(worker_port)

    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger.bind(("127.0.0.1", 0))
    try:
        queue = [item for datagrams in hostile.values() for item in datagrams]
        rng.shuffle(queue)
        for i, (origin, data) in enumerate(queue):
            if origin == "stranger":
                stranger.sendto(data, ("127.0.0.1", worker_port))
            else:
                await ice.sendto(data, 1)
            if i % PACE == PACE - 1:
                await asyncio.sleep(0.005)
    finally:
        stranger.close()
    sent_reports = reports(await asyncio.to_thread(podium.metrics))
    assert kernel_drops(worker_port) == kernel_before, "the kernel dropped datagrams: the barrage is too fast"

    slow = ("slow:untrusted_media", "slow:stun_unknown_ufrag", "slow:dtls_untrusted")

    def delta(now: dict[str, float], name: str) -> float:
        return now.get(name, 0) - before.get(name, 0)

    def accounted(text: str) -> bool:
        if reports(text) < sent_reports + 1:  # a report made after the last datagram was sent
            return False
        now = counters(text)
        return sum(delta(now, name) for name in (*expected, "drops:slow_queue_full")) >= sum(expected.values())

    after_text = await scrape_until(podium, accounted)
    after = counters(after_text)

    # exactly one count per datagram sent: by reason where the reason is certain
    for name in ("drops:unknown_kind", "drops:oversize", "drops:srtp_auth", "drops:unknown_ssrc"):
        assert delta(after, name) == expected[name], name
    assert delta(after, "srtp_failures") == expected["drops:srtp_auth"]
    # slow-path datagrams: their own reason, or the full queue's
    queue_full = delta(after, "drops:slow_queue_full")
    assert sum(delta(after, name) for name in slow) + queue_full == sum(expected[name] for name in slow)
    for name in slow:
        assert expected[name] - queue_full <= delta(after, name) <= expected[name], name
    assert delta(after, "unknown_source") == expected["slow:untrusted_media"]
    total = sum(delta(after, name) for name in (*expected, "drops:slow_queue_full"))
    assert total == sum(expected.values()) == len(queue)

    # and in every report, each datagram read is in exactly one kind or early drop
    received = values(after_text, "podium_engine_packets_received_total", worker=WORKER)
    early = sum(after[f"drops:{reason}"] for reason in ("oversize", "unknown_kind", "srtp_auth"))
    datagrams = values(after_text, "podium_engine_datagrams_received_total", worker=WORKER)[""]
    assert datagrams == sum(received.values()) + early

    # the meeting flows on, both ways, and the worker is still connected
    assert await organizer.frames_grow(alice.id, "microphone")
    assert await alice.frames_grow(organizer.id, "microphone")
    text = await asyncio.to_thread(podium.metrics)
    assert values(text, "podium_engine_worker_state", worker=WORKER, state="connected") == {"": 1}
    assert values(text, "podium_meetings", worker=WORKER) == {"": 1}
    assert values(text, "podium_participants", worker=WORKER, state="admitted") == {"": 2}
    assert values(text, "podium_signaling_connections") == {"": 2}
