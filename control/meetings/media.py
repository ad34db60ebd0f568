"""Media reconciliation: a meeting's engine objects, and the operations that make them follow
`media_plan(state)`.

Each participant has one publish transport (the client offers) and one subscribe transport (we
offer). A producer's gate is open exactly when the plan opens it; a consumer exists only once its
(publisher, source) → subscriber pair has been allowed, and its gate follows the plan from then on
(consumers are kept, paused, when the plan closes them, so that a subscriber is not re-offered for
every mute).

A subscriber's offer has one m-section per slot (`Peer.subscriptions`, in m-line order). A slot
whose producer or publisher went away turns inactive and the subscriber is re-offered; once it has
answered that offer (`Subscription.released`), the next consumer of the same kind takes the slot:
its mid and its place in the BUNDLE group (with SSRCs of its own). Slots are never removed, and their mids are
never reused for another kind, so the offer's first mid (the BUNDLE tag) never changes and the
offer grows only with the most media a subscriber received at once (control.meetings.sdp.subscriber).

The records (`MediaRecords`) are values: every change is a function `(records, ...) → (ops, new
records)` that copies what it touches and leaves the records it was given as they were. The
commit pipeline (control.meetings.commit) sends the operations as one versioned batch and swaps
the new records in only once the worker acked them; on a refusal it keeps the old ones, and
`table(records)` is what the worker must hold for them (its resync). Nothing here awaits.

The records themselves, and the engine object ids they use, are control.meetings.media_records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType

from contract import ops
from control.domain.layers import MAX_LAYERS, choose_layer, sent_layer
from control.domain.meeting_state import MeetingState, media_plan
from control.domain.roles import KIND, Source
from control.meetings import recorder_feed
from control.meetings.media_ops import connect_op, distinct_ids, extensions_op, produce_op
from control.meetings.media_records import (
    Endpoint,
    MediaRecords,
    Op,
    Peer,
    Publication,
    Subscription,
)
from control.meetings.sdp import (
    SUBSCRIBER_EXTENSIONS,
    ConnectWebRtcTransport,
    ConsumerDescription,
    HeaderExtensionIds,
    Produce,
    TransportParameters,
    build_subscriber_offer,
)


class _Draft:
    """A change being computed: copies each peer it changes once, so the records it started from
    stay as they were (and a change touching one subscriber costs that subscriber only)."""

    def __init__(self, records: MediaRecords, place: Callable[[Mapping[str, Peer]], str | None]) -> None:
        self.peers: dict[str, Peer] = dict(records.peers)
        self.router_created = records.router_created
        self.workers = records.workers
        self.recorder = records.recorder
        self._place = place
        self._copied: set[str] = set()

    def peer(self, pid: str) -> Peer:
        """The participant's peer, writable (created when absent, on the worker `place` gives)."""
        if pid not in self._copied:
            old = self.peers.get(pid)
            self.peers[pid] = old.copy() if old is not None else Peer(pid, worker=self._place(self.peers))
            self._copied.add(pid)
        return self.peers[pid]

    def drop(self, pid: str) -> Peer | None:
        self._copied.discard(pid)
        return self.peers.pop(pid, None)

    def records(self) -> MediaRecords:
        return MediaRecords(MappingProxyType(self.peers), self.router_created, self.workers, self.recorder)


class Media:
    """The engine side of one meeting on one worker: its current records, and the pure functions
    that compute changes to them."""

    def __init__(
        self, router_id: str, worker_id: str, fingerprints: list[tuple[str, str]], candidates: list[tuple[str, int]]
    ) -> None:
        self.router_id = router_id
        self.worker_id = worker_id
        self.fingerprints = fingerprints
        self.candidates = candidates
        self.records = MediaRecords()
        """The records the engine acked; only the commit pipeline replaces them."""
        self.placer: Callable[[Mapping[str, Peer]], str] | None = None
        """Where a new participant goes, given the meeting's peers (control.engines.placement.spill);
        None: on this worker, the meeting's first."""
        self.endpoint: Callable[[str], Endpoint] | None = None
        """Another worker's certificate and addresses (the service asks the registry)."""
        self.recorder_address: tuple[str, int] | None = None
        """The recorder's loopback socket while the meeting is recorded (control.meetings.recordings
        sets it before the change that starts a recording, clears it when the recording ends): where
        the worker's plain transport to the recorder sends (after a move, on the new worker too)."""
        self.caps: dict[str, int] = {}
        """consumer → the highest layer the bandwidth estimated toward its subscriber allows
        (control.meetings.bandwidth). Not durable: after a restart the
        next estimates set it again."""
        self.silent: frozenset[str] = frozenset()
        """Simulcast layers (producer ids) whose publisher sends nothing now, as the engine's bitrate
        pass told (control.meetings.bandwidth): a consumer forwards a layer still sent instead
        (control.domain.layers.sent_layer). Not durable either."""
        self.pipe_transport: Callable[[str, str], Op] | None = None
        """(worker, peer worker) → the operation making that worker's pipe transport to the peer
        (control.engines.mesh.PipeMesh.transport_op)."""

    @property
    def peers(self) -> Mapping[str, Peer]:
        return self.records.peers

    def _draft(self, records: MediaRecords) -> _Draft:
        return _Draft(records, self._place)

    def _place(self, peers: Mapping[str, Peer]) -> str | None:
        worker = self.placer(peers) if self.placer is not None else self.worker_id
        return None if worker == self.worker_id else worker

    def local(self, ice: tuple[str, str], worker: str | None = None) -> TransportParameters:
        """Our side of a transport on `worker` (None: the meeting's first worker)."""
        if worker is None or worker == self.worker_id or self.endpoint is None:
            return TransportParameters(ice[0], ice[1], self.fingerprints, self.candidates)
        other = self.endpoint(worker)
        return TransportParameters(ice[0], ice[1], other.fingerprints, other.candidates)

    def _pipe_transport(self, worker: str, peer: str) -> Op:
        if self.pipe_transport is not None:
            return self.pipe_transport(worker, peer)
        if self.endpoint is None:
            raise LookupError(f"no address known for worker {peer}")
        return ops.CreatePlainTransport(f"pipe>{peer}", "pipes", self.endpoint(peer).address, pipe=True)

    def _router(self, draft: _Draft) -> list[Op]:
        if draft.router_created:
            return []
        draft.router_created = True
        return [ops.CreateRouter(self.router_id)]

    # -- publishing --

    def with_peer(self, records: MediaRecords, pid: str) -> tuple[MediaRecords, Peer]:
        """The records with the participant's peer in them (its ICE credentials fixed from now on)."""
        peer = records.peers.get(pid)
        if peer is not None:
            return records, peer
        draft = self._draft(records)
        peer = draft.peer(pid)
        return draft.records(), peer

    def publish(
        self,
        records: MediaRecords,
        pid: str,
        connect: ConnectWebRtcTransport | None,
        produces: list[tuple[Produce, Source]],
    ) -> tuple[list[Op], MediaRecords, list[Publication]]:
        """Operations creating the publish transport (first offer) and one producer per new source
        (gated: `reconcile` opens what the plan allows)."""
        draft = self._draft(records)
        out = self._router(draft)
        peer = draft.peer(pid)
        if peer.pub_transport is None:
            assert connect is not None
            peer.pub_transport = f"{pid}.pub"
            out.append(ops.CreateWebRtcTransport(peer.pub_transport, self.router_id, *peer.pub_ice))
            out.append(connect_op(peer.pub_transport, connect))
            peer.pub_ops = tuple(out[-2:])
        ids: dict[str, int] = {}
        for produce, _ in produces:
            for name, value in vars(produce.header_extensions).items():
                if value is not None:
                    ids.setdefault(name, value)
        merged = distinct_ids({**{k: v for k, v in vars(peer.extensions).items() if v is not None}, **ids})
        if merged != peer.extensions:
            peer.extensions = merged
            out.append(extensions_op(peer.pub_transport, merged))
            peer.extensions_op = out[-1]
        created = []
        for produce, source in produces:
            codec = produce.codecs[0]
            producer_id = f"{pid}.{source}.{peer.next_id()}"
            encodings = produce.encodings or (None,)
            if produce.kind != "video":
                encodings = encodings[:1]
            layers = [
                produce_op(
                    f"{producer_id}.l{n}" if n else producer_id,
                    peer.pub_transport,
                    produce,
                    source,
                    encoding,
                    by_mid=len(encodings) == 1 or encoding is None or encoding.ssrc is None,
                    below_top=n < len(encodings[:MAX_LAYERS]) - 1,
                )
                for n, encoding in enumerate(encodings[:MAX_LAYERS])
            ]
            out += layers
            publication = Publication(
                producer_id, source, produce.kind, produce.mid, codec, create=layers[0], layer_creates=tuple(layers[1:])
            )
            peer.publications[source] = publication
            created.append(publication)
        return out, draft.records(), created

    def close_producer(self, records: MediaRecords, pid: str, source: Source) -> tuple[list[Op], MediaRecords]:
        peer = records.peers.get(pid)
        if peer is None or source not in peer.publications:
            return [], records
        draft = self._draft(records)
        publication = draft.peer(pid).publications.pop(source)
        self._deactivate(draft, lambda s: s.producer_id == publication.producer_id)
        return [ops.CloseProducer(layer) for layer in publication.layer_ids], draft.records()

    # -- subscribing --

    def subscribe_offer(
        self, records: MediaRecords, pid: str
    ) -> tuple[MediaRecords, tuple[int, str, list[Subscription]] | None]:
        """A new offer for the subscriber when consumers were added or ended and none is awaiting an
        answer (no engine operation: the records it returns are in force at once)."""
        peer = records.peers.get(pid)
        if peer is None or not peer.dirty or peer.pending_offer is not None or peer.sub_transport is None:
            return records, None
        if not peer.subscriptions:
            return records, None
        draft = self._draft(records)
        peer = draft.peer(pid)
        peer.dirty = False
        peer.offer_version += 1
        descriptions = [
            ConsumerDescription(
                mid=s.mid,
                kind=s.kind,
                ssrc=s.ssrc,
                codec=s.codec,
                cname="podium",
                stream_id=s.publisher,
                track_id=s.consumer_id,
                active=s.active,
                rtx_ssrc=s.rtx_ssrc,
            )
            for s in peer.subscriptions
        ]
        sdp = build_subscriber_offer(descriptions, self.local(peer.sub_ice, peer.worker), version=peer.offer_version)
        peer.pending_offer = (peer.offer_version, sdp)
        peer.pending_inactive = frozenset(s.mid for s in peer.subscriptions if not s.active)
        return draft.records(), (peer.offer_version, sdp, list(peer.subscriptions))

    def answered(
        self,
        records: MediaRecords,
        pid: str,
        connect: ConnectWebRtcTransport,
        extensions: HeaderExtensionIds = SUBSCRIBER_EXTENSIONS,
    ) -> tuple[list[Op], MediaRecords]:
        """The subscriber answered its pending offer: connect the transport the first time, free
        the slots the offer had inactive, and have the engine write only the header extensions
        the answer agreed to (`extensions`)."""
        draft = self._draft(records)
        peer = draft.peer(pid)
        peer.pending_offer = None
        out: list[Op] = []
        if peer.sub_transport is not None:
            agreed = extensions_op(peer.sub_transport, distinct_ids(vars(extensions)))
            if agreed != peer.sub_extensions_op:
                peer.sub_extensions_op = agreed
                out.append(agreed)
        if peer.pending_inactive:
            peer.subscriptions = [
                replace(s, released=True) if not s.active and s.mid in peer.pending_inactive else s
                for s in peer.subscriptions
            ]
            peer.pending_inactive = frozenset()
        if peer.sub_connected or peer.sub_transport is None:
            return out, draft.records()
        peer.sub_connected = True
        out.append(connect_op(peer.sub_transport, connect))
        peer.sub_ops += (out[-1],)
        return out, draft.records()

    # -- a resumed participant whose peer connections are gone --

    def renew(self, records: MediaRecords, pid: str) -> tuple[list[Op], MediaRecords]:
        """Close the participant's transports (their producers, and the consumers of those, go with
        them) and give them an empty peer: new ICE credentials, offers from version 1 again. Their ids
        count on, so no producer or consumer id comes back."""
        old = records.peers.get(pid)
        if old is None:
            return [], records
        draft = self._draft(records)
        closes = self._drop(draft, pid)
        renewed = draft.peer(pid)
        renewed.counter, renewed.worker = old.counter, old.worker
        return closes, draft.records()

    def relocate(self, records: MediaRecords, pid: str) -> MediaRecords:
        """A participant whose worker was lost (the meeting spans others that live on): its
        transports, producers and consumers went with that worker, so no operation closes them; it
        gets an empty peer placed again (on a live worker), its ids counting on, and the others'
        consumers of its producers end (their subscribers are re-offered)."""
        old = records.peers.get(pid)
        if old is None:
            return records
        draft = self._draft(records)
        self._drop(draft, pid)
        draft.peer(pid).counter = old.counter
        return draft.records()

    # -- departures --

    def _drop(self, draft: _Draft, pid: str) -> list[Op]:
        """Close a departed participant's transports (their producers and consumers go with them)."""
        peer = draft.drop(pid)
        if peer is None:
            return []
        self._deactivate(draft, lambda s: s.publisher == pid)
        return [ops.CloseTransport(t) for t in (peer.pub_transport, peer.sub_transport) if t]

    @staticmethod
    def _deactivate(draft: _Draft, match: Callable[[Subscription], bool]) -> None:
        for pid in list(draft.peers):
            if any(s.active and match(s) for s in draft.peers[pid].subscriptions):
                other = draft.peer(pid)
                other.subscriptions = [
                    replace(s, active=False) if s.active and match(s) else s for s in other.subscriptions
                ]
                other.dirty = True  # re-offered with those sections inactive, which frees their slots

    def close(self, records: MediaRecords) -> tuple[list[Op], MediaRecords]:
        if not records.router_created:
            return [], MediaRecords()
        return [ops.CloseRouter(self.router_id)], MediaRecords()

    # -- the plan --

    def reconcile(self, records: MediaRecords, state: MeetingState) -> tuple[list[Op], MediaRecords]:
        """Operations that make the engine follow `media_plan(state)` (closes first, then opens),
        and the records once they are applied; `records` stays as it was."""
        plan = media_plan(state)
        draft = self._draft(records)
        closes: list[Op] = []
        opens: list[Op] = []
        present = {p.id for p in state.participants}
        for pid in [pid for pid in draft.peers if pid not in present]:
            closes += self._drop(draft, pid)
        for p in state.participants:
            if p.id not in draft.peers:
                draft.peer(p.id)
        for pid in list(draft.peers):
            for source, publication in list(draft.peers[pid].publications.items()):
                want_open = plan.is_open(pid, publication.source)
                if want_open == publication.paused:
                    draft.peer(pid).publications[source] = replace(publication, paused=not want_open)
                    (opens if want_open else closes).extend(
                        (ops.ResumeProducer if want_open else ops.PauseProducer)(layer)
                        for layer in publication.layer_ids
                    )
        publishers = [
            (pid, publication) for pid in list(draft.peers) for publication in draft.peers[pid].publications.values()
        ]
        for sub_id in list(draft.peers):
            existing = {s.producer_id: i for i, s in enumerate(draft.peers[sub_id].subscriptions) if s.active}
            for pub_id, publication in publishers:
                if pub_id == sub_id:
                    continue
                allowed = plan.may_receive(pub_id, publication.source, sub_id)
                index = existing.get(publication.producer_id)
                if index is not None:
                    current = draft.peers[sub_id].subscriptions[index]
                    paused = not allowed or current.hidden
                    if current.paused != paused:
                        draft.peer(sub_id).subscriptions[index] = replace(current, paused=paused)
                        (closes if paused else opens).append(
                            (ops.PauseConsumer if paused else ops.ResumeConsumer)(current.consumer_id)
                        )
                elif allowed:
                    opens += self._consume(draft.peer(sub_id), pub_id, publication)
        feed_closes, feed_opens, draft.recorder = recorder_feed.follow(
            draft.recorder, draft.peers, state.recording, self.router_id, self.recorder_address
        )
        closes += feed_closes
        opens += feed_opens
        out = self._router(draft) + closes + opens if (closes or opens) else closes + opens
        return out, draft.records()

    def _consume(self, sub: Peer, publisher: str, publication: Publication) -> list[Op]:
        out: list[Op] = []
        if sub.sub_transport is None:
            sub.sub_transport = f"{sub.pid}.sub"
            out.append(ops.CreateWebRtcTransport(sub.sub_transport, self.router_id, *sub.sub_ice))
            sub.sub_ops = tuple(out)
            # until it answers, packets carry the ids its offer will carry (an answer keeps or drops them)
            out.append(extensions_op(sub.sub_transport, SUBSCRIBER_EXTENSIONS))
            sub.sub_extensions_op = out[-1]
        kind = publication.kind or KIND[publication.source].value
        # a freed slot of the kind keeps its mid; the SSRCs are new (Chromium does not receive again
        # on a video SSRC the m-section had before it went inactive)
        slot = next((i for i, s in enumerate(sub.subscriptions) if s.released and s.kind == kind), None)
        if slot is None:
            slot = len(sub.subscriptions)
        mid = sub.subscriptions[slot].mid if slot < len(sub.subscriptions) else str(slot)
        ssrc = sub.ssrcs.allocate()
        rtx_ssrc = sub.ssrcs.allocate() if publication.codec.rtx_payload_type is not None else None
        n = sub.next_id()
        consumer_id = f"{sub.pid}.c{n}"
        top = len(publication.layer_ids) - 1  # the top layer until the subscriber's view says otherwise
        layer = sent_layer(top, self._silent(publication.layer_ids), top)
        out.append(
            ops.Consume(
                consumer_id,
                sub.sub_transport,
                publication.layer_ids[layer],
                ssrc,
                paused=False,
                rtx_ssrc=rtx_ssrc,
                mid=mid,
            )
        )
        subscription = Subscription(
            consumer_id,
            publisher,
            publication.source,
            publication.producer_id,
            kind,
            mid,
            ssrc,
            publication.codec,
            paused=False,
            create=out[-1],
            rtx_ssrc=rtx_ssrc,
            layer=layer,
            wants=None if layer == top else top,
        )
        if slot == len(sub.subscriptions):
            sub.subscriptions.append(subscription)
        else:
            sub.subscriptions[slot] = subscription
        sub.dirty = True
        return out

    # -- what a subscriber shows --

    def view(
        self,
        records: MediaRecords,
        state: MeetingState,
        pid: str,
        consumer_id: str,
        width: int,
        height: int,
        speaker: str | None = None,
    ) -> tuple[list[Op], MediaRecords]:
        """The subscriber shows consumer `consumer_id` at `width` x `height` device pixels (0: not
        at all): the layer control.domain.layers chooses (`speaker`: the meeting's active speaker,
        whose camera comes first) within its bandwidth cap, or the nearest one sent while the
        publisher does not send that, switched at its next keyframe, and the consumer paused while
        hidden. No operation when nothing changes."""
        peer = records.peers.get(pid)
        index = next(
            (i for i, s in enumerate(peer.subscriptions if peer else ()) if s.consumer_id == consumer_id and s.active),
            None,
        )
        if peer is None or index is None:
            raise KeyError(consumer_id)
        current = peer.subscriptions[index]
        publisher = records.peers.get(current.publisher)
        publication = publisher.publications.get(current.source) if publisher else None
        if publication is None or publication.producer_id != current.producer_id:
            return [], records  # its producer is going away: an offer will say so
        layers = publication.layer_ids
        speaking = speaker is not None and current.publisher == speaker
        chosen = choose_layer(len(layers), current.source, width, height, speaking)
        hidden = chosen is None
        cap = self.caps.get(consumer_id)
        if chosen is not None and cap is not None:
            chosen = min(chosen, cap)
        if chosen is None:  # hidden: paused, its layers left as they are
            wanted, layer = current.wanted_layer, current.layer
        else:
            wanted = chosen
            layer = sent_layer(wanted, self._silent(layers), current.layer)
        paused = hidden or not media_plan(state).may_receive(current.publisher, current.source, pid)
        out: list[Op] = []
        size = (width, height)  # to choose again when the speaker, the bandwidth or the layers sent change
        wants = None if layer == wanted else wanted
        updated = replace(current, hidden=hidden, layer=layer, wants=wants, paused=paused, size=size)
        if paused and not current.paused:
            out.append(ops.PauseConsumer(consumer_id))
        if layer != current.layer:
            out.append(ops.SwitchConsumer(consumer_id, layers[layer], at_keyframe=True))
            updated = replace(updated, create=replace(current.create, producer_id=layers[layer]))
        if not paused and current.paused:
            out.append(ops.ResumeConsumer(consumer_id))
        if updated == current:
            return [], records
        draft = self._draft(records)
        draft.peer(pid).subscriptions[index] = updated
        return out, draft.records()

    def _silent(self, layers: Sequence[str]) -> tuple[bool, ...]:
        return tuple(layer in self.silent for layer in layers)

    def speaking(
        self, records: MediaRecords, state: MeetingState, speaker: str | None
    ) -> tuple[list[Op], MediaRecords]:
        """The active speaker is now `speaker`: every shown camera's layer chosen again from the size
        its subscriber last reported (the new speaker's goes up, the one before's back down)."""
        return self.choose_again(records, state, speaker, lambda s: s.source == Source.CAMERA)

    def choose_again(
        self,
        records: MediaRecords,
        state: MeetingState,
        speaker: str | None,
        which: Callable[[Subscription], bool],
    ) -> tuple[list[Op], MediaRecords]:
        """The layer and pause of every active subscription `which` selects chosen again from the
        size its subscriber last reported (after a change of speaker or of `caps`)."""
        shown = [
            (pid, s.consumer_id, s.size)
            for pid, peer in records.peers.items()
            for s in peer.subscriptions
            if s.active and s.size is not None and which(s)
        ]
        out: list[Op] = []
        for pid, consumer_id, (width, height) in shown:
            more, records = self.view(records, state, pid, consumer_id, width, height, speaker)
            out += more
        return out, records

    # -- the table --

    def table(self, records: MediaRecords, worker: str | None = None) -> list[Op]:
        """The operations that build what `worker` (None: the meeting's first) holds for `records`
        on an empty worker (creates and connects only, parents first): this meeting's share of
        that worker's table, with the pipe transports its pipes hang from when it spans workers."""
        if self.spans(records):
            from control.meetings import pipes

            return pipes.table(self.router_id, self.worker_id, records, worker or self.worker_id, self._pipe_transport)
        if not records.router_created or worker not in (None, self.worker_id):
            return []
        transports: list[Op] = []
        producers: list[Op] = []
        consumers: list[Op] = []
        for peer in records.peers.values():
            transports += peer.transport_table()
            producers += peer.producer_table()
            consumers += [replace(s.create, paused=s.paused) for s in peer.subscriptions if s.active]
        return [ops.CreateRouter(self.router_id), *transports, *producers, *consumers, *recorder_feed.table(records)]

    def spans(self, records: MediaRecords) -> bool:
        """Whether the meeting's participants are on more than one worker (or were)."""
        return bool(records.workers) or any(p.worker is not None for p in records.peers.values())

    def split(
        self, batch: list[Op], before: MediaRecords, after: MediaRecords
    ) -> tuple[dict[str, list[Op]], MediaRecords]:
        """Each worker's share of `batch` (control.meetings.pipes.split), and `after` knowing which
        workers hold the meeting's router."""
        if not self.spans(before) and not self.spans(after):
            return ({self.worker_id: batch} if batch else {}), after
        from control.meetings import pipes

        return pipes.split(self.router_id, self.worker_id, batch, before, after)
