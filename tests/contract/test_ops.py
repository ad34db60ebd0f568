"""Typed table operations: parsing from the wire, serializing back, precise refusals."""

from __future__ import annotations

import pytest

from contract import ops
from contract.framing import ProtocolError
from contract.ops import OPERATIONS, Batch, parse_batch, parse_op


def test_parse_fills_defaults() -> None:
    op = parse_op({"op": "consume", "id": "c", "transport_id": "t", "producer_id": "p", "ssrc": 7})
    assert op == ops.Consume("c", "t", "p", 7)
    assert op.to_wire() == {
        "op": "consume",
        "id": "c",
        "transport_id": "t",
        "producer_id": "p",
        "ssrc": 7,
        "payload_type": None,
        "paused": False,
        "rtx_ssrc": None,
        "rtx_payload_type": None,
        "mid": None,
    }


@pytest.mark.parametrize(
    "op",
    [
        ops.CreateRouter("r"),
        ops.CreatePlainTransport("t", "r", ("h", 1)),
        ops.CreateWebRtcTransport("w", "r", "ufrag", "pwd"),
        ops.ConnectWebRtcTransport("w", "server", (("sha-256", "AB"),), remote_ice_ufrag="u"),
        ops.SetHeaderExtensions("w", mid=1, rid=2),
        ops.SetHeaderExtensions("w", mid=1, abs_send_time=2, audio_level=3, transport_cc=4),
        ops.Produce(
            "p", "t", "video", 96, app_data={"source": "screen"}, mid="0", rid="h", rtx_ssrc=9, rtx_payload_type=97
        ),
        ops.Produce("p", "t", "video", 96, mid="0", rid="q", codec="vp8"),
        ops.Consume("c", "t", "p", 5, paused=True, rtx_ssrc=6),
        ops.Consume("c", "t", "p", 5, mid="3"),
        ops.PauseProducer("p"),
        ops.ResumeConsumer("c"),
        ops.SwitchConsumer("c", "p2"),
        ops.SwitchConsumer("c", "p2", at_keyframe=True),
        ops.RequestKeyframe("p"),
        ops.CloseRouter("r"),
        ops.CloseConsumer("c"),
    ],
)
def test_round_trip(op: ops.Operation) -> None:
    assert parse_op(op.to_wire()) == op


def test_every_operation_has_a_distinct_name_and_tier() -> None:
    assert len(OPERATIONS) == 17
    assert all(cls.name == name and cls.tier for name, cls in OPERATIONS.items())


def test_produce_carries_opaque_app_data() -> None:
    op = parse_op(
        {
            "op": "produce",
            "id": "p",
            "transport_id": "t",
            "kind": "audio",
            "ssrc": 1,
            "payload_type": 111,
            "app_data": {"source": "anything", "x": "y"},
        }
    )
    assert isinstance(op, ops.Produce) and op.app_data == {"source": "anything", "x": "y"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "an operation must be a JSON object"),
        ({"id": "x"}, 'an operation needs a string "op"'),
        ({"op": "explode", "id": "x"}, "unknown operation 'explode'"),
        ({"op": "create_router"}, "create_router: id is required"),
        ({"op": "create_router", "id": ""}, "create_router: id must be a non-empty printable string"),
        ({"op": "create_router", "id": "r", "color": 1}, "create_router: unknown field 'color'"),
        ({"op": "create_plain_transport", "id": "t", "router_id": "r", "remote": ["h", 0]}, "needs a port"),
        ({"op": "create_plain_transport", "id": "t", "router_id": "r", "remote": "h:1"}, "must be [host, port]"),
        (
            {"op": "produce", "id": "p", "transport_id": "t", "kind": "smell", "ssrc": 1, "payload_type": 96},
            "produce: kind must be one of audio, video",
        ),
        (
            {"op": "produce", "id": "p", "transport_id": "t", "kind": "audio", "payload_type": 96},
            "produce: needs an ssrc, or a mid or rid to learn it by",
        ),
        (
            {
                "op": "produce",
                "id": "p",
                "transport_id": "t",
                "kind": "video",
                "ssrc": 1,
                "payload_type": 96,
                "codec": "av2",
            },
            "produce: codec must be one of vp8, vp9, h264",
        ),
        ({"op": "switch_consumer", "id": "c", "producer_id": "p", "at_keyframe": 1}, "must be true or false"),
        (
            {"op": "produce", "id": "p", "transport_id": "t", "kind": "audio", "ssrc": 0, "payload_type": 96},
            "produce: ssrc must be an integer in [1, 4294967295]",
        ),
        (
            {"op": "produce", "id": "p", "transport_id": "t", "kind": "audio", "ssrc": 1, "payload_type": 128},
            "produce: payload_type must be an integer in [0, 127]",
        ),
        (
            {"op": "produce", "id": "p", "transport_id": "t", "kind": "audio", "ssrc": True, "payload_type": 1},
            "produce: ssrc must be an integer",
        ),
        (
            {
                "op": "produce",
                "id": "p",
                "transport_id": "t",
                "kind": "audio",
                "ssrc": 1,
                "payload_type": 1,
                "app_data": {"source": 3},
            },
            "produce: app_data must be an object of at most 16 strings",
        ),
        (
            {
                "op": "produce",
                "id": "p",
                "transport_id": "t",
                "kind": "audio",
                "ssrc": 1,
                "payload_type": 1,
                "source": "camera",
            },
            "produce: unknown field 'source'",
        ),
        ({"op": "consume", "id": "c", "transport_id": "t", "producer_id": "p"}, "consume: ssrc is required"),
        (
            {"op": "consume", "id": "c", "transport_id": "t", "producer_id": "p", "ssrc": 1, "paused": "no"},
            "consume: paused must be true or false",
        ),
        (
            {"op": "connect_webrtc_transport", "id": "t", "dtls_role": "server", "remote_fingerprints": []},
            "remote_fingerprints must not be empty",
        ),
        (
            {"op": "connect_webrtc_transport", "id": "t", "dtls_role": "auto", "remote_fingerprints": [["a", "b"]]},
            "dtls_role must be one of server, client",
        ),
        (
            {"op": "set_header_extensions", "id": "t", "mid": 1, "audio_level": 1},
            "set_header_extensions: an id names one extension only",
        ),
        (
            {"op": "consume", "id": "c", "transport_id": "t", "producer_id": "p", "ssrc": 1, "mid": "x" * 17},
            "consume: mid must be a non-empty string of at most 16 characters",
        ),
    ],
)
def test_parse_refuses_with_a_precise_message(raw: object, message: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_op(raw)
    assert message in str(info.value)


def test_building_checks_fields_too() -> None:
    with pytest.raises(ProtocolError, match="pause_producer: id must be"):
        ops.PauseProducer("")


def test_batch_round_trip() -> None:
    batch = Batch("e1", 3, False, [ops.CreateRouter("r")])
    assert parse_batch(batch.to_wire()) == Batch("e1", 3, False, [{"op": "create_router", "id": "r"}])
    with pytest.raises(ProtocolError, match="bad version"):
        parse_batch({"type": "ops", "epoch": "e", "version": 0, "ops": []})
