"""A camera in simulcast by SSRC (a=ssrc-group:SIM, as Firefox and SDP-munging clients send it):
the control plane's produce operations for its layers are accepted by a real engine, one producer
per layer on its own SSRC. (They once all carried the track's MID without a RID, and the engine
refused every layer after the first: found by bench/peer_sfu with simulcast publishers.)"""

from __future__ import annotations

from contract.ops import Produce as ProduceOp
from control.domain.roles import Source
from control.meetings.media import Media
from control.meetings.media_records import MediaRecords
from control.meetings.sdp import CodecParameters, ConnectWebRtcTransport, Encoding, HeaderExtensionIds, Produce
from engine import Engine
from engine.worker.executor import TableExecutor

VP8 = CodecParameters(96, "video/vp8", 90000, rtx_payload_type=97)
CONNECT = ConnectWebRtcTransport("server", (("sha-256", "AA:" * 31 + "AA"),), "ufrag", "p" * 22)


async def test_every_ssrc_layer_is_produced(engine: Engine) -> None:
    camera = Produce(
        "1",
        "video",
        (VP8,),
        tuple(Encoding(ssrc=s, rtx_ssrc=s + 1) for s in (1000, 2000, 3000)),
        HeaderExtensionIds(mid=1),
    )
    media = Media("m", "w", [("sha-256", "BB")], [("127.0.0.1", 4000)])
    ops, _, _ = media.publish(MediaRecords(), "a", CONNECT, [(camera, Source.CAMERA)])
    executor = TableExecutor(engine)
    results = [executor.apply(op) for op in ops]
    assert all(r["ok"] for r in results), results
    layers = [op for op in ops if isinstance(op, ProduceOp)]
    assert [op.ssrc for op in layers] == [1000, 2000, 3000]
    produced = [
        p for router in engine.routers.values() for t in router.transports.values() for p in t.producers.values()
    ]
    assert sorted((p.ssrc, p.rtx_ssrc) for p in produced) == [(1000, 1001), (2000, 2001), (3000, 3001)]
