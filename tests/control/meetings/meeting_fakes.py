"""Fakes for the meeting service's tests: an engine registry that acks (or refuses, or never
answers) every batch, a participant socket, and a publisher's SDP offer."""

from __future__ import annotations

import asyncio
from typing import Any

from contract.acks import Ack
from control.engines import AckTimeout, NoWorkerAvailable, OpsRefused, WorkerInfo
from control.meetings.live import Link


class FakeRegistry:
    """Acks every batch at once; workers w1 and w2 are live. `fail`: "refuse" makes the worker
    refuse the last operation of every batch, "timeout" leaves every batch unacknowledged."""

    def __init__(self) -> None:
        self.listeners: list[Any] = []
        self.live = ["w1", "w2"]
        self.batches: list[tuple[str, list[dict[str, Any]]]] = []
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.replaced: list[tuple[str, list[dict[str, Any]]]] = []
        self.fail: str | None = None
        self.failing: str | None = None
        """Only that worker fails as `fail` says (None: every worker)."""
        self.fingerprint = "AB"
        """The DTLS fingerprint the workers report (a restarted worker has another)."""
        self.restarts = False
        """What `restarting()` says: a supervisor is starting a worker again."""

    def add_listener(self, listener: Any) -> None:
        self.listeners.append(listener)

    def emit(self, event: Any) -> None:
        for listener in self.listeners:
            listener(event)

    def pick_worker(self, *, exclude: Any = (), require: Any = ()) -> str:
        for worker_id in self.live:
            if worker_id not in set(exclude):
                return worker_id
        raise NoWorkerAvailable("no live engine worker")

    def preference(self, *, require: Any = ()) -> list[str]:
        return list(self.live)

    def restarting(self) -> bool:
        return self.restarts

    async def wait_for_worker(self, worker_id: str | None = None, timeout: float = 10.0) -> WorkerInfo:
        async with asyncio.timeout(timeout):
            while not self.live:
                await asyncio.sleep(0.01)
        return self.worker(self.live[0])

    def workers(self) -> list[WorkerInfo]:
        return [self.worker(w) for w in self.live]

    def worker(self, worker_id: str) -> WorkerInfo:
        return WorkerInfo(
            worker_id,
            ("127.0.0.1", 1),
            [("127.0.0.1", 1)],
            [("sha-256", self.fingerprint)],
            ["webrtc"],
            True,
            0,
            {},
            None,
        )

    def table(self, worker_id: str) -> list[dict[str, Any]]:
        return self.tables.get(worker_id, [])

    async def apply(self, worker_id: str, ops: Any, *, timeout: Any = None, started: Any = None) -> Ack:
        self.batches.append((worker_id, list(ops)))
        if self.failing is not None and worker_id != self.failing:
            return Ack(len(self.batches), [{"ok": True} for _ in ops], 0.0)
        if self.fail == "timeout":
            raise AckTimeout(worker_id, 0.01)
        results: list[dict[str, Any]] = [{"ok": True} for _ in ops]
        if self.fail == "refuse":
            results[-1] = {"ok": False, "error": "conflict", "message": "refused by the test"}
            raise OpsRefused(worker_id, Ack(len(self.batches), results, 0.0), list(ops))
        return Ack(len(self.batches), results, 0.0)

    async def replace_table(self, worker_id: str, ops: Any, *, timeout: Any = None) -> Ack:
        self.replaced.append((worker_id, list(ops)))
        self.tables[worker_id] = list(ops)
        return Ack(len(self.batches), [], 0.0)

    def resync_router(self, worker_id: str, router_id: str, ops: Any, *, owned: Any = None) -> asyncio.Future[Ack]:
        self.replaced.append((worker_id, list(ops)))
        done: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        done.set_result(Ack(len(self.batches), [], 0.0))
        return done

    async def resynced(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """The tables replaced so far, once the resyncs started have run."""
        for _ in range(20):
            await asyncio.sleep(0)
        return self.replaced


class Socket:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None

    def link(self) -> Link:
        async def close(code: int, reason: str) -> None:
            self.closed = (code, reason)

        return Link(self.frames.append, close)

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == type_]


def audio_offer(ssrc: int = 1111) -> str:
    """A publisher's offer of one Opus microphone track (mid 0)."""
    return "\r\n".join(
        [
            "v=0",
            "o=- 1 2 IN IP4 127.0.0.1",
            "s=-",
            "t=0 0",
            "a=group:BUNDLE 0",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111",
            "c=IN IP4 127.0.0.1",
            "a=ice-ufrag:abcd",
            "a=ice-pwd:abcdefghijklmnopqrstuvwx",
            "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
            "a=setup:actpass",
            "a=mid:0",
            "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
            "a=sendonly",
            "a=rtcp-mux",
            "a=rtpmap:111 opus/48000/2",
            f"a=ssrc:{ssrc} cname:test",
            "",
        ]
    )


def subscriber_answer(offer: str) -> str:
    """A subscriber's answer to our subscribe offer (as a browser would make it)."""
    from control.meetings.sdp import SessionDescription

    answer = SessionDescription.parse(offer)
    answer.ice_lite = False
    for media in answer.media:
        if media.port:
            if media.direction == "sendonly":
                media.direction = "recvonly"  # an inactive section is answered inactive
            media.setup = "active"
            media.ice_ufrag, media.ice_pwd = "sub1", "subscriberpasswordsub000"
            media.fingerprints = [("sha-256", "CC:" * 31 + "CC")]
            media.candidates, media.ssrcs, media.ssrc_groups = [], [], []
    return answer.serialize()
