"""Answering a publisher's offer: the SDP answer, and the engine operations it implies.

The browser offers its tracks; we answer ICE-lite, BUNDLE, rtcp-mux, one recvonly section per
supported track, and turn the offer into `CreateWebRtcTransport`, `ConnectWebRtcTransport` and one
`Produce` per track. Simulcast by RID (no SSRCs, learned from the MID/RID header extensions) or by
SSRC (a=ssrc-group:SIM).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from control.meetings.sdp.codecs import (
    SUPPORTED_EXTENSIONS,
    URI_TRANSPORT_CC,
    CodecParameters,
    HeaderExtensionIds,
    codec_parameters,
    negotiate_codecs,
)
from control.meetings.sdp.model import (
    Group,
    HeaderExtension,
    MediaSection,
    Rid,
    RtpCodec,
    SdpError,
    SessionDescription,
    Simulcast,
    new_origin,
)
from control.meetings.sdp.transport import (
    ConnectWebRtcTransport,
    CreateWebRtcTransport,
    TransportParameters,
    remote_transport,
    transport_attributes,
    transport_section,
)

NOT_FROM_PUBLISHERS = ("transport-cc", URI_TRANSPORT_CC)
"""Not negotiated with publishers: the engine sends them no transport-wide feedback (yet), and a
browser that negotiated it and gets none holds its send rate at the minimum (its congestion window
never drains). Without it the browser follows the REMB the engine announces (engine/remb.pxi)."""


@dataclass(frozen=True)
class Encoding:
    """One RTP stream of a producer: by SSRC, by RID (SSRC learned from RTP), or neither (by MID)."""

    ssrc: int | None = None
    rid: str | None = None
    rtx_ssrc: int | None = None


@dataclass(frozen=True)
class Produce:
    """One incoming track on the transport (one sendonly/sendrecv m-section of the offer)."""

    mid: str
    kind: str
    codecs: tuple[CodecParameters, ...]
    """In the sender's preference order; RTX is folded into ``rtx_payload_type``."""
    encodings: tuple[Encoding, ...]
    header_extensions: HeaderExtensionIds
    cname: str | None = None
    stream_id: str | None = None
    track_id: str | None = None


@dataclass(frozen=True)
class OfferAnswer:
    answer: str
    operations: list[CreateWebRtcTransport | ConnectWebRtcTransport | Produce]


def _encodings(media: MediaSection) -> tuple[Encoding, ...]:
    send_rids = [rid for rid in media.rids if rid.direction == "send"]
    if send_rids:
        order = media.simulcast.rids() if media.simulcast else [r.id for r in send_rids]
        known = {r.id for r in send_rids}
        return tuple(Encoding(rid=rid) for rid in order if rid in known)
    rtx_of: dict[int, int] = {}
    secondary: set[int] = set()
    for group in media.ssrc_groups:
        if group.semantics in ("FID", "FEC-FR") and len(group.ssrcs) >= 2:
            if group.semantics == "FID":
                rtx_of[group.ssrcs[0]] = group.ssrcs[1]
            secondary.update(group.ssrcs[1:])
    sim = next((g for g in media.ssrc_groups if g.semantics == "SIM"), None)
    primaries = sim.ssrcs if sim else [s for s in media.ssrc_list() if s not in secondary][:1]
    if not primaries:
        return (Encoding(),)  # neither SSRC nor RID: the engine learns the SSRC from the MID
    return tuple(Encoding(ssrc=s, rtx_ssrc=rtx_of.get(s)) for s in primaries)


def _dtls_role_for(remote_setup: str | None) -> tuple[str, str]:
    """(our DTLS role, our a=setup) for the remote's a=setup (RFC 5763 section 5)."""
    if remote_setup in (None, "actpass", "active"):
        return "server", "passive"
    if remote_setup == "passive":
        return "client", "active"
    raise SdpError(f"unsupported a=setup:{remote_setup}")


def answer_offer(
    offer: str | SessionDescription,
    local: TransportParameters,
    *,
    session_id: int | None = None,
    version: int = 1,
) -> OfferAnswer:
    """Answer a publisher's offer: one BUNDLEd transport, every supported track received."""
    session = SessionDescription.parse(offer) if isinstance(offer, str) else offer
    if not session.media:
        raise SdpError("offer has no media section")
    bundle = next((g for g in session.groups if g.semantics == "BUNDLE"), None)
    bundled = set(bundle.mids) if bundle else set()

    answer = SessionDescription(origin=new_origin(session_id, version), ice_lite=True)
    answer.msid_semantic = "WMS *"
    answer.extmap_allow_mixed = session.extmap_allow_mixed
    operations: list[CreateWebRtcTransport | ConnectWebRtcTransport | Produce] = []
    produces: list[Produce] = []
    accepted_mids: list[str] = []
    connect: ConnectWebRtcTransport | None = None
    our_setup = "passive"

    rejected: list[MediaSection] = []
    for media in session.media:
        if media.mid is None:
            raise SdpError("a media section has no a=mid (Unified Plan requires one)")
        codecs = negotiate_codecs(media) if media.kind in ("audio", "video") else []
        codecs = [replace(c, feedback=[f for f in c.feedback if f not in NOT_FROM_PUBLISHERS]) for c in codecs]
        usable = (
            media.port != 0
            and media.protocol.endswith("SAVPF")
            and media.rtcp_mux
            and any(c.name.lower() != "rtx" for c in codecs)
            and (not bundle or media.mid in bundled)
        )
        if not usable:
            section = _rejected(media)
            rejected.append(section)
            answer.media.append(section)
            continue
        ufrag, pwd, fingerprints, setup = remote_transport(session, media)
        if connect is None:
            role, our_setup = _dtls_role_for(setup)
            connect = ConnectWebRtcTransport(role, fingerprints, ufrag, pwd)
        elif (ufrag, pwd) != (connect.remote_ice_ufrag, connect.remote_ice_pwd):
            raise SdpError(f"media section {media.mid!r} does not share the BUNDLE transport")

        section = MediaSection(kind=media.kind, port=9, protocol=media.protocol, formats=[])
        section.mid = media.mid
        transport_section(section, local, our_setup)
        section.rtcp_rsize = media.rtcp_rsize
        section.extmap_allow_mixed = media.extmap_allow_mixed
        section.codecs = codecs
        section.formats = [str(c.payload_type) for c in codecs]
        supported_uris = [uri for uri in SUPPORTED_EXTENSIONS[media.kind] if uri not in NOT_FROM_PUBLISHERS]
        section.extmaps = [HeaderExtension(e.id, e.uri) for e in media.extmaps if e.uri in supported_uris]
        if media.direction in (None, "sendrecv", "sendonly"):
            section.direction = "recvonly"
            recv_rids = [Rid(r.id, "recv") for r in media.rids if r.direction == "send"]
            section.rids = recv_rids
            if media.simulcast is not None and media.simulcast.direction == "send" and recv_rids:
                section.simulcast = Simulcast("recv", [list(s) for s in media.simulcast.streams])
            produces.append(_produce(media, codecs, section))
        else:
            section.direction = "inactive"  # the publisher transport sends nothing
        answer.media.append(section)
        accepted_mids.append(media.mid)

    if connect is None:
        raise SdpError("offer has no media section Podium can receive")
    if len(accepted_mids) > 1 and bundle is None:
        raise SdpError("offer does not BUNDLE its media sections; Podium uses one transport")
    answer.groups = [Group("BUNDLE", accepted_mids)]
    for section in rejected:
        transport_attributes(section, local, our_setup)
    operations.append(CreateWebRtcTransport(local.ice_ufrag, local.ice_pwd))
    operations.append(connect)
    operations += produces
    return OfferAnswer(answer.serialize(), operations)


def _rejected(media: MediaSection) -> MediaSection:
    """JSEP 5.3.1: a rejected section keeps its kind, protocol and mid, with port 0."""
    section = MediaSection(kind=media.kind, port=0, protocol=media.protocol, formats=list(media.formats[:1] or ["0"]))
    section.connection = "IN IP4 0.0.0.0"
    section.mid = media.mid
    if media.kind in ("audio", "video"):
        section.direction = "inactive"
        # Some stacks (aiortc) need a codec definition even in a rejected section.
        first = media.codec(int(section.formats[0])) if section.formats[0].isdigit() else None
        if first is not None and first.name:
            section.codecs = [RtpCodec(first.payload_type, first.name, first.clock_rate, first.channels)]
    return section


def _produce(offer: MediaSection, codecs: list[RtpCodec], answer: MediaSection) -> Produce:
    encodings = _encodings(offer)
    first_ssrc = next((e.ssrc for e in encodings if e.ssrc is not None), None)
    cname = offer.ssrc_attribute(first_ssrc, "cname") if first_ssrc is not None else None
    stream_id = track_id = None
    msid = (
        offer.msid[0] if offer.msid else (offer.ssrc_attribute(first_ssrc, "msid") if first_ssrc is not None else None)
    )
    if msid:
        stream_id, _, track_id = msid.partition(" ")
        track_id = track_id or None
    return Produce(
        mid=offer.mid or "",
        kind=offer.kind,
        codecs=codec_parameters(offer.kind, codecs),
        encodings=encodings,
        header_extensions=HeaderExtensionIds.from_media(answer),
        cname=cname,
        stream_id=stream_id,
        track_id=track_id,
    )
