"""TableExecutor: channel operations applied to a real engine, with real RTP on loopback."""

from __future__ import annotations

import asyncio

import pytest
from engine_wire import Peer, rtp

from contract import acks
from contract.ops import Batch, Operation, parse_op
from contract.table import Table
from engine import Engine, Router
from engine.worker.executor import TableExecutor


def pub_sub(pub: Peer, sub: Peer, *, paused: bool = False) -> list[dict]:
    return [
        {"op": "create_router", "id": "r1"},
        {"op": "create_plain_transport", "id": "pub", "router_id": "r1", "remote": list(pub.address)},
        {"op": "create_plain_transport", "id": "sub", "router_id": "r1", "remote": list(sub.address)},
        {"op": "produce", "id": "mic", "transport_id": "pub", "kind": "audio", "ssrc": 1111, "payload_type": 111},
        {"op": "consume", "id": "mic@sub", "transport_id": "sub", "producer_id": "mic", "ssrc": 5555, "paused": paused},
    ]


async def flows(pub: Peer, sub: Peer, ssrc: int = 5555, count: int = 5, start: int = 0) -> bool:
    for i in range(count):
        pub.send(rtp(start + i, 960 * (start + i), 1111, pt=111))
    got = await sub.receive_rtp(count, timeout=1.0)
    return len(got) == count and {p.ssrc for p in got} == {ssrc}


def expected_table(ops: list[dict], results: list[dict]) -> Table:
    return Table.from_ops([parse_op(op) for op, r in zip(ops, results) if r["ok"]])


def wire(ops: list[Operation]) -> list[dict]:
    """Operations as a batch frame carries them."""
    return [op.to_wire() for op in ops]


async def test_batch_builds_a_forwarding_path(engine: Engine, peers) -> None:
    pub, sub = peers(), peers()
    executor = TableExecutor(engine)
    results = executor.apply_batch(Batch("e1", 1, False, pub_sub(pub, sub)))
    assert all(r["ok"] for r in results)
    assert results[-1] == {"ok": True, "ssrc": 5555}
    assert (executor.epoch, executor.version) == ("e1", 1)
    assert await flows(pub, sub)
    executor.apply_batch(Batch("e1", 2, False, [{"op": "pause_producer", "id": "mic"}]))
    assert not await flows(pub, sub, start=10)
    executor.apply_batch(
        Batch("e1", 3, False, [{"op": "resume_producer", "id": "mic"}, {"op": "pause_consumer", "id": "mic@sub"}])
    )
    assert not await flows(pub, sub, start=20)
    executor.apply_batch(Batch("e1", 4, False, [{"op": "resume_consumer", "id": "mic@sub"}]))
    assert await flows(pub, sub, start=30)


async def test_failed_operations_do_not_stop_the_batch(engine: Engine, peers) -> None:
    pub, sub = peers(), peers()
    executor = TableExecutor(engine)
    ops = [
        {"op": "create_router", "id": "r1"},
        {"op": "create_router", "id": "r1"},
        {"op": "explode"},
        {"op": "produce", "id": "x", "transport_id": "nope", "kind": "audio", "ssrc": 1, "payload_type": 1},
        *pub_sub(pub, sub)[1:],
        {"op": "create_webrtc_transport", "id": "w", "router_id": "r1", "ice_ufrag": "u" * 4, "ice_pwd": "p" * 22}
        if not hasattr(Router, "create_webrtc_transport")
        else {"op": "create_router", "id": "r2"},
        {"op": "consume", "id": "bad", "transport_id": "sub", "producer_id": "mic", "ssrc": 7, "payload_type": 1000},
    ]
    results = executor.apply_batch(Batch("e1", 1, False, ops))
    codes = [r.get("error") for r in results]
    assert codes[:4] == [None, acks.E_DUPLICATE_ID, acks.E_INVALID, acks.E_UNKNOWN_ID]
    assert codes[4:8] == [None] * 4
    assert codes[-1] == acks.E_INVALID
    assert "payload_type" in results[-1]["message"]
    assert codes[-2] in (None, acks.E_UNSUPPORTED)
    assert executor.table == expected_table(ops, results)
    assert await flows(pub, sub)


async def test_close_cascades_and_forgets_ids(engine: Engine, peers) -> None:
    pub, sub = peers(), peers()
    executor = TableExecutor(engine)
    executor.apply_batch(Batch("e1", 1, False, pub_sub(pub, sub)))
    consumer = executor.objects["mic@sub"]
    results = executor.apply_batch(
        Batch("e1", 2, False, [{"op": "close_transport", "id": "pub"}, {"op": "close_transport", "id": "pub"}])
    )
    assert all(r["ok"] for r in results)
    assert set(executor.objects) == {"r1", "sub"} and consumer.closed
    assert executor.table.counts() == {"routers": 1, "transports": 1, "producers": 0, "consumers": 0}
    executor.apply_batch(Batch("e1", 3, False, [{"op": "close_router", "id": "r1"}]))
    assert executor.objects == {} and len(executor.table) == 0
    assert engine.allocations()["transports"] == 0


async def test_sync_of_the_same_table_keeps_every_object(engine: Engine, peers) -> None:
    pub, sub = peers(), peers()
    executor = TableExecutor(engine)
    executor.apply_batch(Batch("e1", 1, False, pub_sub(pub, sub)))
    before = dict(executor.objects)
    results = executor.apply_batch(Batch("e2", 7, True, wire(executor.table.dump())))
    assert all(r["ok"] for r in results)
    assert all(executor.objects[k] is v for k, v in before.items())
    assert (executor.epoch, executor.version) == ("e2", 7)
    assert executor.objects["mic@sub"].stats()["packets_out"] == 0
    assert await flows(pub, sub)


async def test_sync_reconciles_a_changed_table(engine: Engine, peers) -> None:
    pub, sub, other = peers(), peers(), peers()
    executor = TableExecutor(engine)
    executor.apply_batch(
        Batch(
            "e1",
            1,
            False,
            pub_sub(pub, sub)
            + [
                {
                    "op": "produce",
                    "id": "mic2",
                    "transport_id": "pub",
                    "kind": "audio",
                    "ssrc": 2222,
                    "payload_type": 111,
                },
                {"op": "create_plain_transport", "id": "gone", "router_id": "r1", "remote": list(other.address)},
                {"op": "consume", "id": "mic@gone", "transport_id": "gone", "producer_id": "mic", "ssrc": 6666},
            ],
        )
    )
    kept_consumer = executor.objects["mic@sub"]
    # desired: mic closed, mic@sub fed by mic2 and paused, "gone" closed, a new transport and consumer
    desired = Table.from_ops(
        [parse_op(op) for op in pub_sub(pub, sub)[:3]]
        + [
            parse_op(
                {
                    "op": "produce",
                    "id": "mic2",
                    "transport_id": "pub",
                    "kind": "audio",
                    "ssrc": 2222,
                    "payload_type": 111,
                }
            ),
            parse_op(
                {
                    "op": "consume",
                    "id": "mic@sub",
                    "transport_id": "sub",
                    "producer_id": "mic2",
                    "ssrc": 5555,
                    "paused": True,
                }
            ),
            parse_op({"op": "create_plain_transport", "id": "new", "router_id": "r1", "remote": list(other.address)}),
            parse_op({"op": "consume", "id": "mic2@new", "transport_id": "new", "producer_id": "mic2", "ssrc": 7777}),
        ]
    )
    results = executor.apply_batch(Batch("e1", 2, True, wire(desired.dump())))
    assert all(r["ok"] for r in results), results
    assert executor.table == desired
    assert executor.objects["mic@sub"] is kept_consumer and kept_consumer.paused
    assert kept_consumer.producer is executor.objects["mic2"]
    assert set(executor.objects) == set(desired.objects)
    other.sock.setblocking(False)
    for i in range(5):
        pub.send(rtp(100 + i, 960 * i, 2222, pt=111))
    got = await other.receive_rtp(5)
    assert {p.ssrc for p in got} == {7777} and len(got) == 5
    assert await sub.receive_rtp(timeout=0.1) == []  # paused


async def test_sync_recreates_a_table_on_an_empty_worker(engine: Engine, peers) -> None:
    pub, sub = peers(), peers()
    first = TableExecutor(engine)
    first.apply_batch(Batch("e1", 1, False, pub_sub(pub, sub)))
    dump = wire(first.table.dump())
    async with Engine(host="127.0.0.1", port=0) as fresh:
        executor = TableExecutor(fresh)
        results = executor.apply_batch(Batch("e1", 2, True, dump + [{"op": "pause_producer", "id": "mic"}]))
        assert [r["ok"] for r in results] == [True] * len(dump) + [False]
        assert results[-1]["error"] == acks.E_INVALID and "cannot be part of a sync" in results[-1]["message"]
        assert executor.table == first.table
        pub.engine_address = sub.engine_address = fresh.address
        await asyncio.sleep(0)
        assert await flows(pub, sub)


webrtc = pytest.mark.skipif(not hasattr(Router, "create_webrtc_transport"), reason="engine without WebRTC")


def webrtc_ops() -> list[dict]:
    return [
        {"op": "create_router", "id": "r1"},
        {"op": "create_webrtc_transport", "id": "w", "router_id": "r1", "ice_ufrag": "ufrag123", "ice_pwd": "p" * 24},
        {
            "op": "connect_webrtc_transport",
            "id": "w",
            "dtls_role": "server",
            "remote_fingerprints": [["sha-256", ":".join(["AB"] * 32)]],
            "remote_ice_ufrag": "peer",
        },
        {"op": "set_header_extensions", "id": "w", "mid": 4, "rid": 10},
        {
            "op": "produce",
            "id": "cam",
            "transport_id": "w",
            "kind": "video",
            "mid": "1",
            "rid": "h",
            "payload_type": 96,
        },
    ]


@webrtc
async def test_webrtc_operations(engine: Engine) -> None:
    executor = TableExecutor(engine)
    results = executor.apply_batch(Batch("e1", 1, False, webrtc_ops()))
    assert all(r["ok"] for r in results), results
    transport = executor.objects["w"]
    assert transport.ice_parameters == ("ufrag123", "p" * 24)
    assert transport.header_extensions == {"mid": 4, "rid": 10}
    assert executor.objects["cam"].mid == "1" and executor.objects["cam"].ssrc is None
    again = executor.apply_batch(Batch("e1", 2, False, [webrtc_ops()[2]]))
    assert again[0]["error"] == acks.E_CONFLICT
    # a sync of the same table keeps the connected transport
    results = executor.apply_batch(Batch("e1", 3, True, wire(executor.table.dump())))
    assert all(r["ok"] for r in results) and executor.objects["w"] is transport
    # the same credentials on a fresh worker: the same transport for the peers
    async with Engine(host="127.0.0.1", port=0) as fresh:
        other = TableExecutor(fresh)
        assert all(r["ok"] for r in other.apply_batch(Batch("e1", 4, True, wire(executor.table.dump()))))
        assert other.objects["w"].ice_parameters == ("ufrag123", "p" * 24)
        assert other.table == executor.table


async def test_a_sync_batch_has_the_next_bandwidth_tick_tell_everything_again(engine: Engine) -> None:
    """A sync makes the table over for a control plane that holds none of what was told before
    (restarted, or taking a meeting over from another replica): a camera's steady bitrate, or
    the silence of a layer, is told again once, unmoved."""
    from engine import _testing

    engine._bandwidth_timer.cancel()  # the test passes by hand
    core = engine._core
    executor = TableExecutor(engine)
    camera = [
        {"op": "create_router", "id": "r1"},
        {"op": "create_plain_transport", "id": "pub", "router_id": "r1", "remote": ["127.0.0.1", 5004]},
        {"op": "produce", "id": "cam", "transport_id": "pub", "kind": "video", "ssrc": 4242, "payload_type": 96},
    ]
    assert all(r["ok"] for r in executor.apply_batch(Batch("e1", 1, False, camera)))
    for second in range(10, 14):  # never sent: silent from the third pass, told once
        _testing.set_clock(core, second * 1_000_000)
        told = core.bandwidth_report()
    assert told == ([], [])
    executor.apply_batch(Batch("e2", 1, False, [{"op": "create_router", "id": "r2"}]))  # not a sync
    _testing.set_clock(core, 14 * 1_000_000)
    assert core.bandwidth_report() == ([], [])
    executor.apply_batch(Batch("e2", 2, True, camera))
    _testing.set_clock(core, 15 * 1_000_000)
    assert core.bandwidth_report() == ([(executor.objects["r1"].id, executor.objects["cam"].id, 0, True)], [])
