"""Hostile HTTP clients of a running control plane (tests/e2e/test_hostile_input.py, bench/hostile_input.py):
the requests of issue 10's "What was seen" item 5, sent over and over until stopped.

    load = HostileLoad(server.url, token)      # token: any valid access token (for the authenticated kind)
    async with load.running(copies=1):
        ...                                     # the server under hostile load
    load.answers                                # Counter of (kind, status or "cut")
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import httpx

HUGE = 200 * 1024 * 1024


def many_keys(count: int) -> bytes:
    """A JSON object of `count` unknown keys: 300,000 of them make the issue's 5.5 MB body."""
    return ("{" + ",".join(f'"k{i}":{i}' for i in range(count)) + "}").encode()


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


class HostileLoad:
    """Each kind is one request, sent in a loop by `copies` tasks; `answers` counts what came back. The
    unauthenticated kinds go to `open_path` (the issue's: sign-in)."""

    def __init__(self, url: str, token: str, open_path: str = "/api/v1/auth/login", interval: float = 0.0) -> None:
        self.url = url
        self.interval = interval
        """Seconds each loop waits between two requests (0: the next as soon as the last was answered)."""
        self.token = token
        self.open_path = open_path
        self.answers: Counter[tuple[str, int | str]] = Counter()
        self._big = many_keys(300_000)
        self._within = many_keys(15_000)  # about 200 KB: under the authenticated limit, parsed in a thread
        self._deep = nested(5000)
        self.kinds: dict[str, Callable[[httpx.AsyncClient], Awaitable[int | str]]] = {
            "declared_200mb": self._declared,
            "many_keys_5mb": self._many_keys_open,
            "many_keys_200kb_authenticated": self._many_keys_authenticated,
            "deep_5000": self._deep_open,
        }

    async def _declared(self, client: httpx.AsyncClient) -> int | str:
        """Headers announcing a 200 MB body, then nothing: the answer must not wait for the body."""
        parts = urlsplit(self.url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            writer.write(
                f"POST {self.open_path} HTTP/1.1\r\nHost: podium\r\nContent-Type: application/json\r\n".encode()
                + f"Content-Length: {HUGE}\r\n\r\n".encode()
            )
            line = await reader.readline()
            return int(line.split()[1]) if line else "cut"
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _send(
        self, client: httpx.AsyncClient, method: str, path: str, body: bytes, token: str | None = None
    ) -> int | str:
        headers = {"content-type": "application/json"}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        try:
            return (await client.request(method, path, content=body, headers=headers)).status_code
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError):
            return "cut"  # the server answered early and closed while the body was still being sent

    async def _many_keys_open(self, client: httpx.AsyncClient) -> int | str:
        return await self._send(client, "POST", self.open_path, self._big)

    async def _many_keys_authenticated(self, client: httpx.AsyncClient) -> int | str:
        return await self._send(client, "PATCH", "/api/v1/me", self._within, self.token)

    async def _deep_open(self, client: httpx.AsyncClient) -> int | str:
        return await self._send(client, "POST", self.open_path, self._deep)

    async def _loop(self, kind: str, stop: asyncio.Event) -> None:
        send = self.kinds[kind]
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            while not stop.is_set():
                self.answers[(kind, await send(client))] += 1
                if self.interval:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.interval)

    def answered(self) -> set[str]:
        return {kind for kind, _ in self.answers}

    @contextlib.asynccontextmanager
    async def running(self, copies: int = 1, ready_within: float = 10.0) -> AsyncIterator[None]:
        """The load runs inside the block. It is entered once every kind has been answered once, or after
        `ready_within` seconds (a server that never answers a kind, e.g. one that waits for the 200 MB it
        was promised, is still loaded by the others)."""
        stop = asyncio.Event()
        tasks = [asyncio.ensure_future(self._loop(kind, stop)) for kind in self.kinds for _ in range(copies)]
        deadline = asyncio.get_running_loop().time() + ready_within
        try:
            while self.answered() != set(self.kinds) and asyncio.get_running_loop().time() < deadline:
                done = [t for t in tasks if t.done()]
                if done:
                    done[0].result()  # a task that ended early: its error
                await asyncio.sleep(0.05)
            yield
        finally:
            stop.set()
            for task in tasks:  # a request still waiting for its answer is abandoned
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
