"""The recorder's feed of a recorded meeting: a plain transport to the recorder's loopback socket on
the meeting's first worker, and one consumer on it per producer (a simulcast track's top layer),
pure functions over the records like control.meetings.media (which calls them)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping

from contract import ops
from control.meetings.media_records import MediaRecords, Op, Peer, RecorderConsumer, RecorderFeed


def follow(
    feed: RecorderFeed | None,
    peers: Mapping[str, Peer],
    recording: bool,
    router_id: str,
    recorder_address: tuple[str, int] | None,
) -> tuple[list[Op], list[Op], RecorderFeed | None]:
    """The feed following `recording`: (closes, opens, the feed after them). Its transport is made
    when recording starts (to `recorder_address`), a consumer for every producer that has none (a
    video one asked for a keyframe, the first thing a file needs), closed when recording stops. A
    consumer whose producer closed went with it in the engine, and is forgotten here. A spanning
    meeting's producers on other workers are piped to the first (control.meetings.pipes)."""
    if not recording or (feed is None and recorder_address is None):
        if feed is None:
            return [], [], None
        return [ops.CloseTransport(feed.transport_id)], [], None
    opens: list[Op] = []
    if feed is None:
        assert recorder_address is not None
        transport = ops.CreatePlainTransport(f"{router_id}.rec", router_id, recorder_address)
        feed = RecorderFeed(transport, epoch=secrets.token_hex(8))
        opens.append(transport)
    publishers = {
        publication.producer_id: (pid, publication)
        for pid, peer in peers.items()
        for publication in peer.publications.values()
    }
    consumers = [c for c in feed.consumers if c.producer_id in publishers]
    fed = {c.producer_id for c in consumers}
    counter = feed.counter
    for producer_id, (pid, publication) in publishers.items():
        if producer_id in fed:
            continue
        counter += 1
        consumer_id = f"{feed.transport_id}.{counter}"
        digest = hashlib.sha256(f"{feed.epoch}/{consumer_id}".encode()).digest()
        ssrc = int.from_bytes(digest[:4], "big") or 1
        top = publication.layer_ids[-1]
        create = ops.Consume(consumer_id, feed.transport_id, top, ssrc)
        opens.append(create)
        if publication.kind == "video":
            opens.append(ops.RequestKeyframe(top))
        consumers.append(
            RecorderConsumer(
                consumer_id, producer_id, pid, publication.source, publication.kind, publication.codec, ssrc, create
            )
        )
    return [], opens, RecorderFeed(feed.transport, tuple(consumers), counter, feed.epoch)


def table(records: MediaRecords) -> list[Op]:
    """The recorder's transport and the consumers whose producer the records still hold."""
    feed = records.recorder
    if feed is None:
        return []
    producers = {p.producer_id for peer in records.peers.values() for p in peer.publications.values()}
    return [feed.transport, *(c.create for c in feed.consumers if c.producer_id in producers)]
