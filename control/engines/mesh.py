"""Pipe transports between workers: each worker holds, in its router `pipes`, one plain transport
to and from every worker it shares a meeting with (`pipe>W`, `CreatePlainTransport(pipe=True)`),
whose remote is that worker's socket: plain RTP on one host, SRTP keyed here between hosts. Both
directions of a pair use them; every meeting's pipe producers and consumers hang from them
(control.meetings.pipes). Made when a meeting first needs them, closed on the others when a worker
is lost (a worker that comes back is another socket, with new keys)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping

from contract import ops
from contract.ops import SRTP_KEY_SALT_BYTES
from control.engines.errors import EngineChannelError
from control.engines.events import RegistryEvent, WorkerLost
from control.engines.registry import EngineRegistry
from control.engines.workers import WorkerInfo

log = logging.getLogger("podium.engines")

SRTP_PROFILE = 7
"""AEAD_AES_128_GCM (RFC 7714) for pipes between hosts."""
PIPES_ROUTER = "pipes"
"""The router holding a worker's pipe transports (shared by every meeting on it)."""

PIPE_EXTENSIONS = {"abs_send_time": 2, "transport_cc": 3, "audio_level": 4}
"""The header extension ids on every pipe (no MID: a pipe's producers are known by SSRC). Each
publisher's ids are rewritten to these at the origin, and these to each subscriber's on the far
worker, so that publishers with different ids share one pipe (engine/extensions.pxi)."""

_PIPE = "pipe>"
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})


def pipe_extensions(peer_worker: str) -> ops.SetHeaderExtensions:
    """The operation that tells a worker's pipe transport to `peer_worker` the pipes' extension ids."""
    return ops.SetHeaderExtensions(pipe_transport(peer_worker), **PIPE_EXTENSIONS)


def pipe_transport(peer_worker: str) -> str:
    """Id of a worker's pipe transport to and from `peer_worker`."""
    return f"{_PIPE}{peer_worker}"


def pipe_address(info: WorkerInfo) -> tuple[str, int]:
    """Where other workers' pipes send to this one: its socket, or its first candidate when it is
    bound to a wildcard (the first announced address)."""
    host, port = info.address
    if host in _WILDCARDS and info.candidates:
        return info.candidates[0]
    return host, port


def pairs(shares: Mapping[str, Iterable[ops.Operation]]) -> set[tuple[str, str]]:
    """(worker, peer worker) of every pipe transport the shares hang a producer or consumer from."""
    out = set()
    for worker, share in shares.items():
        for op in share:
            if isinstance(op, ops.Produce | ops.Consume) and op.transport_id.startswith(_PIPE):
                out.add((worker, op.transport_id.removeprefix(_PIPE)))
    return out


class PipeMesh:
    """Makes the pipe transports a meeting's batch needs before it is sent, and keys them: plain RTP
    between workers on one host, SRTP between hosts (`srtp_always`: between any two workers), with
    a fresh master key ‖ salt for each direction of each pair, made here and handed to both workers
    in their operations (the engine channel, WSS with TLS)."""

    def __init__(self, registry: EngineRegistry, *, srtp_always: bool = False) -> None:
        self.registry = registry
        self.srtp_always = srtp_always
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._keys: dict[tuple[str, str], str] = {}
        """(worker, peer) → the hex key ‖ salt `worker` encrypts with toward `peer`."""
        registry.add_listener(self._on_event)

    async def ensure(self, needed: Iterable[tuple[str, str]]) -> None:
        """Both ends of each pipe; EngineChannelError (from the registry) when a worker refuses."""
        for worker, peer in sorted({p for pair in needed for p in (pair, pair[::-1])}):
            async with self._locks[worker]:
                have = {op.id for op in self.registry.table(worker)}
                batch: list[ops.Operation] = []
                if PIPES_ROUTER not in have:
                    batch.append(ops.CreateRouter(PIPES_ROUTER))
                held = self._held(worker, peer)
                if held is not None and held.remote != pipe_address(self.registry.worker(peer)):
                    # the peer came back on another socket (a new process): a new pipe, new keys
                    batch.append(ops.CloseTransport(held.id))
                    have.discard(held.id)
                    self._keys.pop((worker, peer), None)
                    self._keys.pop((peer, worker), None)
                made = None
                if pipe_transport(peer) not in have:
                    made = self.transport_op(worker, peer)
                    batch += [made, pipe_extensions(peer)]
                if batch:
                    await self.registry.apply(worker, batch)
                if made is not None:
                    log.info(
                        "engine worker %s: pipe to worker %s at %s port %d, %s",
                        worker,
                        peer,
                        *made.remote,
                        "SRTP (AEAD_AES_128_GCM)" if made.srtp_profile is not None else "plain RTP",
                    )

    def transport_op(self, worker: str, peer: str) -> ops.CreatePlainTransport:
        """The operation that makes (or made) `worker`'s pipe transport to `peer`."""
        held = self._held(worker, peer)
        if held is not None:
            return held
        address = pipe_address(self.registry.worker(peer))
        if not self.srtp_always and address[0] == pipe_address(self.registry.worker(worker))[0]:
            return ops.CreatePlainTransport(pipe_transport(peer), PIPES_ROUTER, address, pipe=True)
        other = self._held(peer, worker)  # the other end, keyed before (by this process or a previous one)
        if other is not None and other.srtp_local_key and other.srtp_remote_key:
            self._keys[(worker, peer)], self._keys[(peer, worker)] = other.srtp_remote_key, other.srtp_local_key
        for direction in ((worker, peer), (peer, worker)):
            if direction not in self._keys:
                self._keys[direction] = secrets.token_bytes(SRTP_KEY_SALT_BYTES[SRTP_PROFILE]).hex()
        return ops.CreatePlainTransport(
            pipe_transport(peer),
            PIPES_ROUTER,
            address,
            pipe=True,
            srtp_profile=SRTP_PROFILE,
            srtp_local_key=self._keys[(worker, peer)],
            srtp_remote_key=self._keys[(peer, worker)],
        )

    def _held(self, worker: str, peer: str) -> ops.CreatePlainTransport | None:
        try:
            table = self.registry.table(worker)
        except EngineChannelError:
            return None
        op = next((op for op in table if op.id == pipe_transport(peer)), None)
        return op if isinstance(op, ops.CreatePlainTransport) else None

    def _on_event(self, event: RegistryEvent) -> None:
        if isinstance(event, WorkerLost):
            asyncio.get_running_loop().create_task(self._forget(event.worker_id))

    async def _forget(self, lost: str) -> None:
        """Close the pipes to a lost worker on every live one (their producers and the consumers of
        those go with them; the meetings move the lost worker's participants); forget their keys."""
        for pair in [pair for pair in self._keys if lost in pair]:
            del self._keys[pair]
        for info in self.registry.workers():
            if not info.connected or info.worker_id == lost:
                continue
            async with self._locks[info.worker_id]:
                try:
                    if any(op.id == pipe_transport(lost) for op in self.registry.table(info.worker_id)):
                        await self.registry.apply(info.worker_id, [ops.CloseTransport(pipe_transport(lost))])
                except EngineChannelError as error:
                    log.warning("worker %s: closing the pipe to lost worker %s failed: %s", info.worker_id, lost, error)
