"""A meeting across workers: which producers are piped where, and each worker's share of a batch.

Each participant's transports, producers and consumers are on the participant's worker
(`Peer.worker`; None: the meeting's first worker, `home`). A subscriber on worker W that receives a
producer of worker O ≠ W needs a pipe for it: on O a consumer of the producer on O's pipe transport
to W, and on W a producer of the same SSRC on W's pipe transport from O, which W's subscribers
consume. One pipe per (producer, W), whatever the number of subscribers on W; it exists while some
subscription on W has the producer (a paused one too), and closes with the last.

Gates: the pipe's producer on W is gated as the origin producer (the control plane pauses both),
so a revoke stops the source at the origin and again at every worker it was piped to.

Pipe transports (`pipe>W` in router `pipes`, one per pair of workers, both directions) are shared by
every meeting the two workers hold: their ids are not the meeting's, its pipe producers and
consumers are (`pipe:<router>:...`). This module is pure: the records and the operations."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from contract import ops
from control.engines.mesh import PIPES_ROUTER, pipe_extensions, pipe_transport
from control.meetings.media_records import MediaRecords, Op, Peer, Publication

if TYPE_CHECKING:
    from control.meetings.live import LiveMeeting


def prefix(router_id: str) -> str:
    """What the ids of a meeting's pipe producers and consumers start with."""
    return f"pipe:{router_id}:"


@dataclass(frozen=True)
class Pipe:
    """One producer piped from its worker to another."""

    producer_id: str
    """The origin producer (one layer of a simulcast publication: each layer has its pipe)."""
    origin: str
    worker: str
    """Where its subscribers are."""
    publication: Publication

    def producer(self, router_id: str) -> str:
        """Id of the pipe's producer on `worker`."""
        return f"{prefix(router_id)}{self.producer_id}"

    def consumer(self, router_id: str) -> str:
        """Id of the pipe's consumer on `origin`."""
        return f"{prefix(router_id)}{self.producer_id}>{self.worker}"

    def ssrcs(self, router_id: str) -> tuple[int, int | None]:
        """The SSRC (and RTX SSRC) the pipe carries the producer with: fixed by the names, so that a
        restarted control plane builds the same pipe."""
        rtx = self.publication.codec.rtx_payload_type is not None
        return _ssrc(router_id, self.producer_id, self.worker, "media"), (
            _ssrc(router_id, self.producer_id, self.worker, "rtx") if rtx else None
        )

    def creates(self, router_id: str, paused: bool) -> tuple[Op, Op]:
        """(the consumer on `origin`, the producer on `worker`), the producer gated `paused`."""
        ssrc, rtx_ssrc = self.ssrcs(router_id)
        p = self.publication
        create = next(op for op in (p.create, *p.layer_creates) if op.id == self.producer_id)
        assert isinstance(create, ops.Produce)
        consumer = ops.Consume(
            self.consumer(router_id), pipe_transport(self.worker), self.producer_id, ssrc, rtx_ssrc=rtx_ssrc
        )
        producer = ops.Produce(
            self.producer(router_id),
            pipe_transport(self.origin),
            create.kind,
            create.payload_type,
            app_data=dict(create.app_data),
            ssrc=ssrc,
            clock_rate=create.clock_rate,
            codec=create.codec,  # where its keyframes start, for layer switches on `worker`
            below_top=create.below_top,  # its subscribers on `worker` are probed as on `origin`
            paused=paused,
            rtx_ssrc=rtx_ssrc,
            rtx_payload_type=p.codec.rtx_payload_type if rtx_ssrc is not None else None,
        )
        return consumer, producer


def _ssrc(*parts: str) -> int:
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") or 1


def worker_of(peer: Peer | None, home: str) -> str:
    return peer.worker if peer is not None and peer.worker is not None else home


def needed(records: MediaRecords, home: str) -> dict[tuple[str, str], Pipe]:
    """(origin producer id, worker) → the pipe the records need."""
    out: dict[tuple[str, str], Pipe] = {}
    peers = records.peers
    for sub in peers.values():
        worker = worker_of(sub, home)
        for s in sub.subscriptions:
            publisher = peers.get(s.publisher)
            if not s.active or publisher is None:
                continue
            origin = worker_of(publisher, home)
            publication = next((p for p in publisher.publications.values() if p.producer_id == s.producer_id), None)
            if origin != worker and publication is not None:
                # every layer: a switch on `worker` then finds its target piped and keyframes flowing
                for layer in publication.layer_ids:
                    out.setdefault((layer, worker), Pipe(layer, origin, worker, publication))
    feed = records.recorder
    for c in feed.consumers if feed is not None else ():
        # the recorder's feed is on the first worker: producers of the others are piped there
        publisher = peers.get(c.publisher)
        if publisher is None:
            continue
        origin = worker_of(publisher, home)
        publication = next((p for p in publisher.publications.values() if p.producer_id == c.producer_id), None)
        if origin != home and publication is not None:
            layer = c.engine_producer
            out.setdefault((layer, home), Pipe(layer, origin, home, publication))
    return out


def workers(records: MediaRecords, home: str) -> list[str]:
    """The workers the meeting's participants are on, its first worker first, then in arrival order."""
    out = [home]
    for peer in records.peers.values():
        w = worker_of(peer, home)
        if w not in out:
            out.append(w)
    return out


def media_workers(live: LiveMeeting) -> list[str]:
    """Every worker holding some of the meeting: its participants' and those with its router."""
    media = live.media
    out = workers(media.records, media.worker_id)
    return out + sorted(media.records.workers - set(out))


# ---- splitting a batch -------------------------------------------------------------------------


class _Owners:
    """Which participant each engine object of the meeting belongs to, in either records."""

    def __init__(self, home: str, *records: MediaRecords) -> None:
        self.home = home
        self.worker: dict[str, str] = {}
        """object id (transport, producer, consumer) → its worker"""
        self.publication: dict[str, Publication] = {}
        for r in records:
            for peer in r.peers.values():
                w = worker_of(peer, home)
                for t in (peer.pub_transport, peer.sub_transport):
                    if t:
                        self.worker.setdefault(t, w)
                for p in peer.publications.values():
                    for layer in p.layer_ids:
                        self.worker.setdefault(layer, w)
                        self.publication.setdefault(layer, p)
                for s in peer.subscriptions:
                    self.worker.setdefault(s.consumer_id, w)

    def of(self, op: Op) -> str:
        if isinstance(op, ops.CreateRouter | ops.CloseRouter):
            return self.home
        if isinstance(op, ops.Consume | ops.Produce):
            return self.worker.get(op.transport_id, self.home)
        return self.worker.get(op.id, self.home)


def split(
    router_id: str, home: str, batch: list[Op], before: MediaRecords, after: MediaRecords
) -> tuple[dict[str, list[Op]], MediaRecords]:
    """Each worker's share of a meeting's batch (computed by `Media` as for one worker): each
    operation to the worker of the object it names, a consumer of another worker's producer turned
    to that producer's pipe; the pipes `after` needs and `before` did not opened, those it no longer
    needs closed, and a producer's gate set on its pipes too. Returns the shares and `after` with the
    workers now holding the meeting's router. A meeting on one worker: `{home: batch}`."""
    owners = _Owners(home, after, before)
    old, new = needed(before, home), needed(after, home)
    ending = any(isinstance(op, ops.CloseRouter) for op in batch)
    out: dict[str, list[Op]] = {}
    tail: dict[str, list[Op]] = {}  # after the batch: pipe consumers (their producer may be new), closes
    routers = set(after.workers)

    def to(worker: str) -> list[Op]:
        """The worker's share, the meeting's router created first on a worker without it."""
        if worker != home and worker not in routers and not ending:
            routers.add(worker)
            out.setdefault(worker, []).append(ops.CreateRouter(router_id))
        return out.setdefault(worker, [])

    for key, pipe in new.items():
        if key not in old:
            consumer, producer = pipe.creates(router_id, _paused(after, pipe))
            to(pipe.worker).append(producer)
            tail.setdefault(pipe.origin, []).append(consumer)
    for op in batch:
        if isinstance(op, ops.CloseRouter):
            for worker in [home, *sorted(before.workers)]:
                out.setdefault(worker, []).append(op)
            continue
        worker = owners.of(op)
        if isinstance(op, ops.Consume | ops.SwitchConsumer):
            target = op.producer_id
            origin = owners.worker.get(target, home)
            if origin != worker:
                pipe = Pipe(target, origin, worker, owners.publication[target])
                op = replace(op, producer_id=pipe.producer(router_id))
        to(worker).append(op)
        if isinstance(op, ops.PauseProducer | ops.ResumeProducer):
            # the gate again at every worker the producer is piped to (a new pipe is created so)
            for key, pipe in new.items():
                if key[0] == op.id and key in old:
                    to(pipe.worker).append(type(op)(pipe.producer(router_id)))
    for key, pipe in old.items():
        if key not in new:
            tail.setdefault(pipe.worker, []).append(ops.CloseProducer(pipe.producer(router_id)))
            tail.setdefault(pipe.origin, []).append(ops.CloseConsumer(pipe.consumer(router_id)))
    for worker, closing in tail.items():
        out.setdefault(worker, []).extend(closing)
    after = replace(after, workers=frozenset() if ending else frozenset(routers))
    return {w: share for w, share in out.items() if share}, after


def _paused(records: MediaRecords, pipe: Pipe) -> bool:
    for peer in records.peers.values():
        for p in peer.publications.values():
            if pipe.producer_id in p.layer_ids:
                return p.paused
    return True


# ---- a worker's share of the meeting's table -----------------------------------------------------


def table(
    router_id: str, home: str, records: MediaRecords, worker: str, transport: Callable[[str, str], Op]
) -> list[Op]:
    """The operations that build what `worker` holds for the meeting (creates and connects only,
    parents first), with the pipe transports its pipes hang from (`transport(worker, peer)`: the
    operation making one, control.engines.mesh.PipeMesh.transport_op)."""
    has_router = (worker == home and records.router_created) or worker in records.workers
    pipes = needed(records, home)
    mine = [p for p in pipes.values() if worker in (p.origin, p.worker)]
    if not has_router and not mine:
        return []
    owners = _Owners(home, records)
    transports: list[Op] = []
    producers: list[Op] = []
    consumers: list[Op] = []
    peers_ = [peer for peer in records.peers.values() if worker_of(peer, home) == worker]
    for peer in peers_:
        transports += peer.transport_table()
        producers += peer.producer_table()
        for s in peer.subscriptions:
            if not s.active:
                continue
            consume = replace(s.create, paused=s.paused)
            layer = consume.producer_id  # the layer it forwards (a simulcast track's), else its producer
            origin = owners.worker.get(layer, home)
            if origin != worker:
                consume = replace(consume, producer_id=pipes[(layer, worker)].producer(router_id))
            consumers.append(consume)
    peers_of_pipes: set[str] = set()
    for pipe in mine:
        consumer, producer = pipe.creates(router_id, _paused(records, pipe))
        if pipe.origin == worker:
            consumers.append(consumer)
            peers_of_pipes.add(pipe.worker)
        else:
            producers.append(producer)
            peers_of_pipes.add(pipe.origin)
    shared: list[Op] = []
    if peers_of_pipes:
        shared.append(ops.CreateRouter(PIPES_ROUTER))
        shared += [op for p in sorted(peers_of_pipes) for op in (transport(worker, p), pipe_extensions(p))]
    feed = records.recorder
    if worker == home and feed is not None:
        transports.append(feed.transport)
        for c in feed.consumers:
            origin = owners.worker.get(c.engine_producer)
            if origin is None:
                continue  # its producer closed, and the consumer with it
            consume = c.create
            if origin != home:
                consume = replace(consume, producer_id=pipes[(c.engine_producer, home)].producer(router_id))
            consumers.append(consume)
    routers = [ops.CreateRouter(router_id)] if has_router else []
    return [*routers, *shared, *transports, *producers, *consumers]
