"""The engine channel's wire format: operation validation, the pure table, the handshake proofs."""

from __future__ import annotations

import pytest

from engine import channel_protocol as proto
from engine.channel_protocol import ProtocolError, Table, TableError, validate_op


def ops_pub_sub() -> list[dict]:
    return [
        {"op": "create_router", "id": "r1"},
        {"op": "create_plain_transport", "id": "pub", "router_id": "r1", "remote": ["127.0.0.1", 4000]},
        {"op": "create_plain_transport", "id": "sub", "router_id": "r1", "remote": ["127.0.0.1", 4001]},
        {"op": "produce", "id": "mic", "transport_id": "pub", "kind": "audio", "ssrc": 1111, "payload_type": 111},
        {"op": "consume", "id": "mic@sub", "transport_id": "sub", "producer_id": "mic", "ssrc": 5555},
    ]


def test_validate_fills_defaults() -> None:
    op = validate_op({"op": "consume", "id": "c", "transport_id": "t", "producer_id": "p"})
    assert op == {"op": "consume", "id": "c", "transport_id": "t", "producer_id": "p", "ssrc": None,
                  "payload_type": None, "paused": False, "rtx_ssrc": None, "rtx_payload_type": None}


@pytest.mark.parametrize(("raw", "message"), [
    ([], "an operation must be a JSON object"),
    ({"id": "x"}, 'an operation needs a string "op"'),
    ({"op": "explode", "id": "x"}, "unknown operation 'explode'"),
    ({"op": "create_router"}, "create_router: id is required"),
    ({"op": "create_router", "id": ""}, "create_router: id must be a non-empty printable string"),
    ({"op": "create_router", "id": "r", "color": 1}, "create_router: unknown field 'color'"),
    ({"op": "create_plain_transport", "id": "t", "router_id": "r", "remote": ["h", 0]}, "needs a port"),
    ({"op": "create_plain_transport", "id": "t", "router_id": "r", "remote": "h:1"}, "must be [host, port]"),
    ({"op": "produce", "id": "p", "transport_id": "t", "kind": "smell", "ssrc": 1, "payload_type": 96},
     "produce: kind must be one of audio, video"),
    ({"op": "produce", "id": "p", "transport_id": "t", "kind": "audio", "payload_type": 96},
     "produce: needs an ssrc, or a mid or rid to learn it by"),
    ({"op": "produce", "id": "p", "transport_id": "t", "kind": "audio", "ssrc": 0, "payload_type": 96},
     "produce: ssrc must be an integer in [1, 4294967295]"),
    ({"op": "produce", "id": "p", "transport_id": "t", "kind": "audio", "ssrc": 1, "payload_type": 128},
     "produce: payload_type must be an integer in [0, 127]"),
    ({"op": "produce", "id": "p", "transport_id": "t", "kind": "audio", "ssrc": True, "payload_type": 1},
     "produce: ssrc must be an integer"),
    ({"op": "consume", "id": "c", "transport_id": "t", "producer_id": "p", "paused": "no"},
     "consume: paused must be true or false"),
    ({"op": "connect_webrtc_transport", "id": "t", "dtls_role": "server", "remote_fingerprints": []},
     "remote_fingerprints must not be empty"),
    ({"op": "connect_webrtc_transport", "id": "t", "dtls_role": "auto", "remote_fingerprints": [["a", "b"]]},
     "dtls_role must be one of server, client"),
])
def test_validate_refuses_with_a_precise_message(raw: object, message: str) -> None:
    with pytest.raises(ProtocolError, match=None) as info:
        validate_op(raw)
    assert message in str(info.value)


def test_table_builds_dumps_and_rebuilds() -> None:
    table = Table.from_ops([validate_op(op) for op in ops_pub_sub()])
    assert table.counts() == {"routers": 1, "transports": 2, "producers": 1, "consumers": 1}
    assert Table.from_ops(table.dump()) == table
    assert table.router_of("mic@sub") == "r1"


def test_dump_orders_parents_first_after_a_switch() -> None:
    table = Table.from_ops([validate_op(op) for op in ops_pub_sub()])
    table.apply(validate_op({"op": "produce", "id": "mic2", "transport_id": "pub", "kind": "audio",
                             "ssrc": 2222, "payload_type": 111}))
    table.apply(validate_op({"op": "switch_consumer", "id": "mic@sub", "producer_id": "mic2"}))
    table.apply(validate_op({"op": "pause_consumer", "id": "mic@sub"}))
    dump = table.dump()
    names = [op["id"] for op in dump]
    assert names.index("mic2") < names.index("mic@sub")
    rebuilt = Table.from_ops(dump)
    assert rebuilt == table
    assert rebuilt.objects["mic@sub"]["op"]["producer_id"] == "mic2"
    assert rebuilt.objects["mic@sub"]["op"]["paused"] is True


def test_closing_cascades_like_the_engine() -> None:
    table = Table.from_ops([validate_op(op) for op in ops_pub_sub()])
    assert table.closing("pub") == ["pub", "mic", "mic@sub"]  # the consumer on another transport too
    table.apply(validate_op({"op": "close_router", "id": "r1"}))
    assert len(table) == 0
    table.apply(validate_op({"op": "close_router", "id": "r1"}))  # closing twice is fine


@pytest.mark.parametrize(("op", "code"), [
    ({"op": "create_router", "id": "r1"}, proto.E_DUPLICATE_ID),
    ({"op": "create_plain_transport", "id": "t", "router_id": "nope", "remote": ["h", 1]}, proto.E_UNKNOWN_ID),
    ({"op": "create_plain_transport", "id": "t", "router_id": "pub", "remote": ["h", 1]}, proto.E_WRONG_TYPE),
    ({"op": "pause_producer", "id": "mic@sub"}, proto.E_WRONG_TYPE),
    ({"op": "close_transport", "id": "mic"}, proto.E_WRONG_TYPE),
    ({"op": "produce", "id": "p", "transport_id": "pub", "kind": "audio", "ssrc": 1111, "payload_type": 1},
     proto.E_CONFLICT),
    ({"op": "connect_webrtc_transport", "id": "pub", "dtls_role": "server", "remote_fingerprints": [["a", "b"]]},
     proto.E_WRONG_TYPE),
])
def test_table_refusals(op: dict, code: str) -> None:
    table = Table.from_ops([validate_op(o) for o in ops_pub_sub()])
    before = table.copy()
    with pytest.raises(TableError) as info:
        table.apply(validate_op(op))
    assert info.value.code == code
    assert table == before


def test_consumer_and_producer_must_share_a_router_and_a_kind() -> None:
    table = Table.from_ops([validate_op(o) for o in ops_pub_sub()])
    for op in ({"op": "create_router", "id": "r2"},
               {"op": "create_plain_transport", "id": "t2", "router_id": "r2", "remote": ["h", 1]},
               {"op": "produce", "id": "cam", "transport_id": "pub", "kind": "video", "ssrc": 9, "payload_type": 96}):
        table.apply(validate_op(op))
    with pytest.raises(TableError) as info:
        table.apply(validate_op({"op": "consume", "id": "x", "transport_id": "t2", "producer_id": "mic"}))
    assert info.value.code == proto.E_WRONG_ROUTER
    with pytest.raises(TableError) as info:
        table.apply(validate_op({"op": "switch_consumer", "id": "mic@sub", "producer_id": "cam"}))
    assert info.value.code == proto.E_CONFLICT and "audio consumer to a video producer" in info.value.message


def test_proofs_depend_on_secret_direction_and_nonces() -> None:
    proof = proto.hello_proof("s3cret", "n" * 32, "w" * 32, "worker-1")
    assert proto.proofs_match(proof, proto.hello_proof("s3cret", "n" * 32, "w" * 32, "worker-1"))
    assert not proto.proofs_match(proof, proto.hello_proof("other", "n" * 32, "w" * 32, "worker-1"))
    assert not proto.proofs_match(proof, proto.hello_proof("s3cret", "m" * 32, "w" * 32, "worker-1"))
    assert not proto.proofs_match(proof, proto.hello_proof("s3cret", "n" * 32, "w" * 32, "worker-2"))
    assert not proto.proofs_match(proof, proto.welcome_proof("s3cret", "n" * 32, "w" * 32, "worker-1"))
    assert not proto.proofs_match(proof, None)


@pytest.mark.parametrize("frame", [b"\x00", "not json", "[1]", '{"type": 3}', '{"no": "type"}', "[" * 100000])
def test_decode_refuses_malformed_frames(frame: str | bytes) -> None:
    with pytest.raises(ProtocolError):
        proto.decode(frame)
