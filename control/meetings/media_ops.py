"""The engine operations a participant's transports and tracks become (contract.ops), from what their
SDP negotiated (control.meetings.sdp): connect a transport, agree its header-extension ids, produce a
track or one of its simulcast layers."""

from __future__ import annotations

from collections.abc import Mapping

from contract import ops
from control.domain.roles import Source
from control.meetings.media_records import Op
from control.meetings.sdp import ConnectWebRtcTransport, Encoding, HeaderExtensionIds, Produce


def distinct_ids(ids: Mapping[str, int | None]) -> HeaderExtensionIds:
    """The ids, each kept only for the first extension that names it (an id names one extension)."""
    kept: dict[str, int] = {}
    for name, value in ids.items():
        if value is not None and value not in kept.values():
            kept[name] = value
    return HeaderExtensionIds(**kept)


def extensions_op(transport_id: str, ids: HeaderExtensionIds) -> Op:
    return ops.SetHeaderExtensions(
        transport_id,
        mid=ids.mid,
        rid=ids.rid,
        repaired_rid=ids.repaired_rid,
        abs_send_time=ids.abs_send_time,
        audio_level=ids.audio_level,
        transport_cc=ids.transport_cc,
    )


def produce_op(
    producer_id: str,
    transport_id: str,
    produce: Produce,
    source: Source,
    encoding: Encoding | None,
    by_mid: bool,
    below_top: bool = False,
) -> Op:
    """One engine producer of a track: the track itself, or one simulcast layer (by SSRC or RID).
    `below_top`: a layer with a higher one (its subscribers' bandwidth is probed).
    `by_mid`: the producer is known by the track's MID too. Not the layers of a simulcast by SSRC
    (a=ssrc-group:SIM): their SSRCs name them, and they share one MID without a RID, which the engine
    refuses for a second producer (it would not know which of them an unknown SSRC is)."""
    codec = produce.codecs[0]
    rtx = encoding is not None and (encoding.rtx_ssrc is not None or encoding.rid is not None)
    return ops.Produce(
        producer_id,
        transport_id,
        produce.kind,
        codec.payload_type,
        app_data={"source": str(source)},
        ssrc=encoding.ssrc if encoding else None,
        mid=produce.mid if by_mid else None,
        rid=encoding.rid if encoding else None,
        clock_rate=codec.clock_rate,
        paused=True,
        rtx_ssrc=encoding.rtx_ssrc if encoding else None,
        rtx_payload_type=codec.rtx_payload_type if rtx else None,
        codec=KEYFRAME_CODECS.get(codec.mime_type.lower()),
        below_top=below_top,
    )


KEYFRAME_CODECS = {"video/vp8": "vp8", "video/vp9": "vp9", "video/h264": "h264"}
"""Codecs whose keyframes the engine finds (a simulcast layer switches there)."""


def connect_op(transport_id: str, connect: ConnectWebRtcTransport) -> Op:
    return ops.ConnectWebRtcTransport(
        transport_id,
        connect.dtls_role,
        tuple(tuple(f) for f in connect.remote_fingerprints),
        remote_ice_ufrag=connect.remote_ice_ufrag or None,
        remote_ice_pwd=connect.remote_ice_pwd or None,
    )
