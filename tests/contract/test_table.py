"""The replicated table: building, dumping, cascading closes, refusals."""

from __future__ import annotations

import pytest

from contract import acks, ops
from contract.ops import parse_op
from contract.table import Table, TableError


def ops_pub_sub() -> list[ops.Operation]:
    return [
        ops.CreateRouter("r1"),
        ops.CreatePlainTransport("pub", "r1", ("127.0.0.1", 4000)),
        ops.CreatePlainTransport("sub", "r1", ("127.0.0.1", 4001)),
        ops.Produce("mic", "pub", "audio", 111, ssrc=1111),
        ops.Consume("mic@sub", "sub", "mic", 5555),
    ]


def test_table_builds_dumps_and_rebuilds() -> None:
    table = Table.from_ops(ops_pub_sub())
    assert table.counts() == {"routers": 1, "transports": 2, "producers": 1, "consumers": 1}
    assert Table.from_ops(table.dump()) == table
    assert Table.from_ops(parse_op(op.to_wire()) for op in table.dump()) == table
    assert table.router_of("mic@sub") == "r1"


def test_dump_orders_parents_first_after_a_switch() -> None:
    table = Table.from_ops(ops_pub_sub())
    table.apply(ops.Produce("mic2", "pub", "audio", 111, ssrc=2222))
    table.apply(ops.SwitchConsumer("mic@sub", "mic2"))
    table.apply(ops.PauseConsumer("mic@sub"))
    dump = table.dump()
    names = [op.id for op in dump]
    assert names.index("mic2") < names.index("mic@sub")
    rebuilt = Table.from_ops(dump)
    assert rebuilt == table
    consumer = rebuilt.objects["mic@sub"].op
    assert isinstance(consumer, ops.Consume) and consumer.producer_id == "mic2" and consumer.paused is True


def test_closing_cascades_like_the_engine() -> None:
    table = Table.from_ops(ops_pub_sub())
    assert table.closing("pub") == ["pub", "mic", "mic@sub"]  # the consumer on another transport too
    table.apply(ops.CloseRouter("r1"))
    assert len(table) == 0
    table.apply(ops.CloseRouter("r1"))  # closing twice is fine


@pytest.mark.parametrize(
    ("op", "code"),
    [
        (ops.CreateRouter("r1"), acks.E_DUPLICATE_ID),
        (ops.CreatePlainTransport("t", "nope", ("h", 1)), acks.E_UNKNOWN_ID),
        (ops.CreatePlainTransport("t", "pub", ("h", 1)), acks.E_WRONG_TYPE),
        (ops.PauseProducer("mic@sub"), acks.E_WRONG_TYPE),
        (ops.CloseTransport("mic"), acks.E_WRONG_TYPE),
        (ops.Produce("p", "pub", "audio", 1, ssrc=1111), acks.E_CONFLICT),
        (ops.ConnectWebRtcTransport("pub", "server", (("a", "b"),)), acks.E_WRONG_TYPE),
    ],
)
def test_table_refusals(op: ops.Operation, code: str) -> None:
    table = Table.from_ops(ops_pub_sub())
    before = table.copy()
    with pytest.raises(TableError) as info:
        table.apply(op)
    assert info.value.code == code
    assert table == before


def test_consumer_and_producer_must_share_a_router_and_a_kind() -> None:
    table = Table.from_ops(ops_pub_sub())
    for op in (
        ops.CreateRouter("r2"),
        ops.CreatePlainTransport("t2", "r2", ("h", 1)),
        ops.Produce("cam", "pub", "video", 96, ssrc=9),
    ):
        table.apply(op)
    with pytest.raises(TableError) as info:
        table.apply(ops.Consume("x", "t2", "mic", 1))
    assert info.value.code == acks.E_WRONG_ROUTER
    with pytest.raises(TableError) as info:
        table.apply(ops.SwitchConsumer("mic@sub", "cam"))
    assert info.value.code == acks.E_CONFLICT and "audio consumer to a video producer" in info.value.message


def test_a_pipe_consumes_and_is_consumed_across_routers() -> None:
    table = Table.from_ops(ops_pub_sub())
    for op in (
        ops.CreateRouter("pipes"),
        ops.CreatePlainTransport("pipe.b", "pipes", ("127.0.0.1", 5000), pipe=True),
        ops.Consume("mic@b", "pipe.b", "mic", 7001),  # out to the other worker
        ops.Produce("b.mic", "pipe.b", "audio", 111, ssrc=7002),  # in from it
        ops.Consume("b.mic@sub", "sub", "b.mic", 5556),
    ):
        table.apply(op)
    assert parse_op(table.objects["pipe.b"].op.to_wire()) == table.objects["pipe.b"].op
    # closing the meeting's router closes its producer's consumer on the pipe, not the pipe's producer
    assert set(table.closing("r1")) >= {"mic@b", "b.mic@sub"}
    assert "b.mic" not in table.closing("r1") and "pipe.b" not in table.closing("r1")
    # a plain transport that is no pipe stays in its router
    table.apply(ops.CreateRouter("r2"))
    table.apply(ops.CreatePlainTransport("t2", "r2", ("h", 1)))
    with pytest.raises(TableError) as info:
        table.apply(ops.Consume("x", "t2", "mic", 1))
    assert info.value.code == acks.E_WRONG_ROUTER
