"""Loopback relays a test owns, to take one participant off the network and put it back.

- `UdpRelay`: one participant's media. `steer(sdp)` rewrites the engine worker's host candidate in
  the SDP the server sends to the relay's own port, so both of the participant's peer connections
  send there; the relay forwards each client address through an upstream socket of its own to the
  worker (the worker sees the relay as the peer: ICE, DTLS and SRTP go through untouched).
- `TcpRelay`: one participant's signaling socket (`Participant.join(..., url=relay.url)`).

`block(seconds)` drops (UDP) or holds (TCP) everything, both ways, until `unblock()` or until the
seconds have passed, whichever comes first: a block always ends by itself. Nothing is buffered in the
UDP relay (a datagram that cannot be sent at once is dropped, as a network would); `close()` ends
every socket and task. Loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from dataclasses import dataclass, field

LOOPBACK = "127.0.0.1"
MAX_DATAGRAM = 65535
MAX_CLIENTS = 16
"""Client addresses kept per relay (a participant has two peer connections; every rejoin makes two
more): the oldest upstream is closed beyond this."""
CANDIDATE = re.compile(r"^(a=candidate:\S+ \d+ udp \d+ )(\S+) (\d+)( typ .*)$", re.M | re.I)


class _Block:
    """Whether a relay is blocked now, and the timer that lifts the block by itself."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.open.set()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def blocked(self) -> bool:
        return not self.open.is_set()

    def block(self, seconds: float) -> None:
        self.unblock()
        self.open.clear()
        self._timer = asyncio.get_running_loop().call_later(seconds, self.unblock)

    def unblock(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.open.set()


@dataclass
class UdpCounters:
    """Datagrams through a relay, per direction, and those dropped (blocked, or no room to send)."""

    to_engine: int = 0
    to_client: int = 0
    dropped: int = 0


class UdpRelay:
    """A bounded datagram relay between one participant's peer connections and the engine worker."""

    def __init__(self) -> None:
        self.counters = UdpCounters()
        self.target: tuple[str, int] | None = None
        """The worker's address, learned from the first candidate `steer` rewrites."""
        self._gate = _Block()
        self._loop = asyncio.get_running_loop()
        self._front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._front.bind((LOOPBACK, 0))
        self._front.setblocking(False)
        self.port: int = self._front.getsockname()[1]
        self._loop.add_reader(self._front, self._from_client)
        self._upstreams: dict[tuple[str, int], socket.socket] = {}
        """Client address → the socket that speaks for it to the worker (insertion order: oldest first)."""

    @property
    def blocked(self) -> bool:
        return self._gate.blocked

    def block(self, seconds: float) -> None:
        """Drop every datagram, both ways, for `seconds` at most."""
        self._gate.block(seconds)

    def unblock(self) -> None:
        self._gate.unblock()

    def steer(self, sdp: str) -> str:
        """The SDP with the worker's candidate replaced by the relay's address (a worker on another
        address, after a move, becomes the target: the old upstreams are closed)."""

        def rewrite(match: re.Match[str]) -> str:
            target = (match.group(2), int(match.group(3)))
            if target != self.target:
                self._close_upstreams()
                self.target = target
            return f"{match.group(1)}{LOOPBACK} {self.port}{match.group(4)}"

        return CANDIDATE.sub(rewrite, sdp)

    def _from_client(self) -> None:
        while True:
            try:
                data, client = self._front.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. ICMP port unreachable reported on the socket
                continue
            if self.blocked or self.target is None:
                self.counters.dropped += 1
                continue
            upstream = self._upstreams.get(client) or self._open_upstream(client)
            try:
                upstream.send(data)
                self.counters.to_engine += 1
            except OSError:
                self.counters.dropped += 1

    def _open_upstream(self, client: tuple[str, int]) -> socket.socket:
        assert self.target is not None
        if len(self._upstreams) >= MAX_CLIENTS:
            oldest = next(iter(self._upstreams))
            self._close(self._upstreams.pop(oldest))
        upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        upstream.bind((LOOPBACK, 0))
        upstream.connect(self.target)
        upstream.setblocking(False)
        self._upstreams[client] = upstream
        self._loop.add_reader(upstream, self._from_engine, upstream, client)
        return upstream

    def _from_engine(self, upstream: socket.socket, client: tuple[str, int]) -> None:
        while True:
            try:
                data = upstream.recv(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if self.blocked:
                self.counters.dropped += 1
                continue
            try:
                self._front.sendto(data, client)
                self.counters.to_client += 1
            except OSError:
                self.counters.dropped += 1

    def _close(self, sock: socket.socket) -> None:
        self._loop.remove_reader(sock)
        sock.close()

    def _close_upstreams(self) -> None:
        for upstream in self._upstreams.values():
            self._close(upstream)
        self._upstreams.clear()

    def close(self) -> None:
        self._gate.unblock()
        self._close_upstreams()
        if self._front.fileno() != -1:
            self._close(self._front)


@dataclass
class _Pipe:
    """One relayed TCP connection: both directions' tasks and the client's and server's writers."""

    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)


class TcpRelay:
    """A relay of TCP connections to `target` (the control plane's port) on a loopback port of its
    own: `block` holds the bytes both ways (the sockets stay open)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._gate = _Block()
        self._server: asyncio.Server | None = None
        self._pipes: list[_Pipe] = []
        self.port = 0

    @classmethod
    async def start(cls, target: tuple[str, int]) -> TcpRelay:
        relay = cls(target)
        relay._server = await asyncio.start_server(relay._accept, LOOPBACK, 0)
        relay.port = relay._server.sockets[0].getsockname()[1]
        return relay

    def url(self, path: str) -> str:
        return f"ws://{LOOPBACK}:{self.port}{path}"

    @property
    def blocked(self) -> bool:
        return self._gate.blocked

    def block(self, seconds: float) -> None:
        """Hold every byte, both ways, for `seconds` at most (nothing is lost: TCP, delayed)."""
        self._gate.block(seconds)

    def unblock(self) -> None:
        self._gate.unblock()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        pipe = _Pipe(writers=[client_writer, server_writer])
        pipe.tasks = [
            asyncio.ensure_future(self._pump(client_reader, server_writer, pipe)),
            asyncio.ensure_future(self._pump(server_reader, client_writer, pipe)),
        ]
        self._pipes.append(pipe)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pipe: _Pipe) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                await self._gate.open.wait()
                writer.write(data)
                await writer.drain()
        for each in pipe.writers:  # one side ended: so does the other
            each.transport.abort()

    async def close(self) -> None:
        self._gate.unblock()
        if self._server is not None:
            self._server.close()
        pipes, self._pipes = self._pipes, []
        for pipe in pipes:
            for writer in pipe.writers:
                writer.transport.abort()
            for task in pipe.tasks:
                task.cancel()
        await asyncio.gather(*(task for pipe in pipes for task in pipe.tasks), return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
