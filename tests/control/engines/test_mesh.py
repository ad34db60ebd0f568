"""Pipe transports between workers: plain on one host, SRTP keyed per direction between hosts, made
once, and the keys of a pipe one end already holds reused for the other end."""

from __future__ import annotations

from typing import Any

from contract import ops
from control.engines import WorkerInfo
from control.engines.mesh import PIPE_EXTENSIONS, PIPES_ROUTER, PipeMesh, pairs, pipe_address, pipe_transport


class Registry:
    def __init__(self, hosts: dict[str, str]) -> None:
        self.hosts = hosts
        self.tables: dict[str, list[ops.Operation]] = {w: [] for w in hosts}
        self.batches: list[tuple[str, list[ops.Operation]]] = []

    def add_listener(self, listener: Any) -> None:
        pass

    def worker(self, worker_id: str) -> WorkerInfo:
        host = self.hosts[worker_id]
        return WorkerInfo(worker_id, ("::", 4000), [(host, 4000)], [], ["webrtc"], True, 0, {}, None)

    def table(self, worker_id: str) -> list[ops.Operation]:
        return self.tables[worker_id]

    async def apply(self, worker_id: str, batch: list[ops.Operation], **_: Any) -> None:
        self.batches.append((worker_id, batch))
        self.tables[worker_id] += batch


async def test_pipes_on_one_host_are_plain_and_made_once() -> None:
    registry = Registry({"a": "10.0.0.1", "b": "10.0.0.1"})
    mesh = PipeMesh(registry)  # type: ignore[arg-type]
    await mesh.ensure({("a", "b")})
    await mesh.ensure({("b", "a")})
    assert [w for w, _ in registry.batches] == ["a", "b"]
    made = {w: batch[-2] for w, batch in registry.batches}
    assert made["a"] == ops.CreatePlainTransport(pipe_transport("b"), PIPES_ROUTER, ("10.0.0.1", 4000), pipe=True)
    # the pipes' own header extension ids, whoever publishes through them
    assert registry.batches[0][1][-1] == ops.SetHeaderExtensions(pipe_transport("b"), **PIPE_EXTENSIONS)
    assert made["a"].srtp_profile is None and registry.batches[0][1][0] == ops.CreateRouter(PIPES_ROUTER)


async def test_pipes_between_hosts_are_srtp_with_a_key_per_direction() -> None:
    registry = Registry({"a": "10.0.0.1", "b": "10.0.0.2"})
    await PipeMesh(registry).ensure({("a", "b")})  # type: ignore[arg-type]
    a, b = registry.tables["a"][-2], registry.tables["b"][-2]
    assert isinstance(a, ops.CreatePlainTransport) and isinstance(b, ops.CreatePlainTransport)
    assert a.remote == ("10.0.0.2", 4000) and b.remote == ("10.0.0.1", 4000)  # a wildcard bind: the candidate
    assert a.srtp_profile == b.srtp_profile == 7
    assert a.srtp_local_key == b.srtp_remote_key and b.srtp_local_key == a.srtp_remote_key
    assert a.srtp_local_key != a.srtp_remote_key


async def test_a_new_control_plane_keys_the_missing_end_as_the_other_end_holds() -> None:
    registry = Registry({"a": "10.0.0.1", "b": "10.0.0.2"})
    await PipeMesh(registry).ensure({("a", "b")})  # type: ignore[arg-type]
    held = registry.tables["a"][-2]
    registry.tables["b"] = []  # b's end is gone (its table emptied); a's stayed
    await PipeMesh(registry, srtp_always=True).ensure({("a", "b")})  # type: ignore[arg-type]
    again = registry.tables["b"][-2]
    assert isinstance(held, ops.CreatePlainTransport) and isinstance(again, ops.CreatePlainTransport)
    assert again.srtp_remote_key == held.srtp_local_key and again.srtp_local_key == held.srtp_remote_key


def test_pairs_and_addresses() -> None:
    shares = {
        "a": [ops.Consume("c", pipe_transport("b"), "p", 1), ops.CreateRouter("m")],
        "b": [ops.Produce("q", pipe_transport("a"), "audio", 111, ssrc=1)],
    }
    assert pairs(shares) == {("a", "b"), ("b", "a")}
    info = WorkerInfo("a", ("127.0.0.1", 5), [("203.0.113.7", 5)], [], [], True, 0, {}, None)
    assert pipe_address(info) == ("127.0.0.1", 5)
