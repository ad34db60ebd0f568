"""One SSRC allocator per subscriber transport: a consumer's SSRC and RTX SSRC are unique on its
transport, and an allocation looks at that transport's SSRCs only."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from control.domain.meeting_state import MeetingState, Participant, RoomFeatures
from control.domain.roles import ALL_CAPABILITIES, Role, Source
from control.meetings.media import Media
from control.meetings.media_records import MediaRecords
from control.meetings.sdp import (
    CodecParameters,
    ConnectWebRtcTransport,
    Encoding,
    HeaderExtensionIds,
    Produce,
)
from control.meetings.ssrc import SsrcAllocator

CONNECT = ConnectWebRtcTransport("server", (("sha-256", "AA"),), "u", "p")
OPUS = CodecParameters(111, "audio/opus", 48000, 2)
VP8_RTX = CodecParameters(96, "video/VP8", 90000, None, rtx_payload_type=97)


class Repeating(random.Random):
    """Draws from `values` first (collisions on purpose), then at random."""

    def __init__(self, values: list[int]) -> None:
        super().__init__(7)
        self.values = list(values)

    def randint(self, a: int, b: int) -> int:
        return self.values.pop(0) if self.values else super().randint(a, b)


@given(st.lists(st.integers(1, 4)), st.integers(1, 40))
def test_allocations_are_unique_even_when_draws_collide(draws: list[int], n: int) -> None:
    allocator = SsrcAllocator(rng=Repeating(draws))
    ssrcs = [allocator.allocate() for _ in range(n)]
    assert len(set(ssrcs)) == n == len(allocator)
    assert all(1 <= s <= 0xFFFFFFFF for s in ssrcs)


def test_a_copy_allocates_apart_from_its_original() -> None:
    allocator = SsrcAllocator(rng=Repeating([5]))
    copy = allocator.copy()
    assert copy.allocate() == 5 and len(allocator) == 0
    assert SsrcAllocator({5}, Repeating([5, 6])).allocate() == 6


def person(pid: str, **kw) -> Participant:  # type: ignore[no-untyped-def]
    return Participant(pid, "u:" + pid, True, capabilities=ALL_CAPABILITIES, **kw)


def publish(media: Media, records: MediaRecords, pid: str, rtx: bool) -> MediaRecords:
    kind, codec = ("video", VP8_RTX) if rtx else ("audio", OPUS)
    source = Source.CAMERA if rtx else Source.MICROPHONE
    produce = Produce(
        "0", kind, (codec,), (Encoding(ssrc=1000, rtx_ssrc=2000 if rtx else None),), HeaderExtensionIds(mid=1)
    )
    _, records, _ = media.publish(records, pid, CONNECT, [(produce, source)])
    return records


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=2, max_size=7), st.lists(st.integers(1, 3)))
def test_consumer_ssrcs_are_unique_per_subscriber_transport(rtx: list[bool], draws: list[int]) -> None:
    """Every participant publishes (with RTX or not) and receives everyone else."""
    media = Media("m", "w", [], [])
    people = tuple(person(f"p{i}", role=Role.ORGANIZER if i == 0 else Role.PARTICIPANT) for i in range(len(rtx)))
    records = MediaRecords()
    for p, has_rtx in zip(people, rtx, strict=True):
        records = publish(media, records, p.id, has_rtx)
    for pid in records.peers:  # collisions on purpose in every allocator
        records.peers[pid].ssrcs = SsrcAllocator(rng=Repeating(draws))
    ops, records = media.reconcile(records, MeetingState(RoomFeatures(), people))
    for peer in records.peers.values():
        ssrcs = [x for s in peer.subscriptions for x in (s.ssrc, s.rtx_ssrc) if x is not None]
        assert len(ssrcs) == len(set(ssrcs)) == len(peer.ssrcs)
        assert len(peer.subscriptions) == len(rtx) - 1
        assert all((s.rtx_ssrc is not None) == rtx[int(s.publisher[1:])] for s in peer.subscriptions)
    consumes = [op for op in ops if op.name == "consume"]
    assert {(op.id, op.ssrc, op.rtx_ssrc) for op in consumes} == {
        (s.consumer_id, s.ssrc, s.rtx_ssrc) for peer in records.peers.values() for s in peer.subscriptions
    }


def test_a_new_consumer_touches_its_subscriber_only() -> None:
    """No rebuild of every SSRC in the meeting: a subscriber's new consumer allocates from its own
    transport's set; the other subscribers' records (allocators included) are not even copied."""
    media = Media("m", "w", [], [])
    people = [person("a", role=Role.ORGANIZER), *(person(f"s{i}") for i in range(20))]
    records = publish(media, MediaRecords(), "a", rtx=True)
    _, records = media.reconcile(records, MeetingState(RoomFeatures(), tuple(people)))
    before = dict(records.peers)
    late = person("late")
    _, records = media.reconcile(records, MeetingState(RoomFeatures(), (*people, late)))
    assert all(records.peers[p.id] is before[p.id] for p in people)  # untouched: shared, not copied
    records = publish(media, records, "late", rtx=False)
    _, after = media.reconcile(records, MeetingState(RoomFeatures(), (*people, late)))
    for p in people[1:]:
        assert len(after.peers[p.id].ssrcs) == 3  # a's camera (with RTX) and late's microphone
        assert after.peers[p.id] is not records.peers[p.id]
    assert after.peers["a"].ssrcs is not records.peers["a"].ssrcs and len(records.peers["a"].ssrcs) == 0
    assert len(after.peers["a"].ssrcs) == 1


def test_the_records_a_change_started_from_keep_their_allocators() -> None:
    media = Media("m", "w", [], [])
    people = (person("a", role=Role.ORGANIZER), person("b"), person("c"))
    records = publish(media, MediaRecords(), "a", rtx=True)
    _, records = media.reconcile(records, MeetingState(RoomFeatures(), people))
    kept = records.peers["b"].ssrcs.used
    _, after = media.reconcile(publish(media, records, "c", rtx=False), MeetingState(RoomFeatures(), people))
    assert records.peers["b"].ssrcs.used == kept and len(kept) == 2
    assert after.peers["b"].ssrcs.used > kept and len(after.peers["b"].ssrcs) == 3
