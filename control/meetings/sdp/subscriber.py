"""Offering to a subscriber, and checking its answer.

We offer one sendonly section per consumer on one BUNDLEd transport, with the SSRCs the caller's
`ConsumerDescription` carries (this module chooses none); the answer tells the DTLS role to take,
the sections accepted, and the header extension ids agreed.

A section whose consumer ended is offered `a=inactive`, never rejected with port 0: every section
stays in the BUNDLE group, so the group's first mid (its tag, which names the transport) never
changes. A browser that saw the tagged section rejected would move the group to the next mid and
take it for a new transport, with our unchanged ICE credentials and fingerprint, that never
connects (Chromium does). An inactive section's mid takes the next consumer of its kind
(control.meetings.media), so the offer does not grow with churn.
"""

from __future__ import annotations

from dataclasses import dataclass

from control.meetings.sdp.codecs import (
    SUPPORTED_EXTENSIONS,
    URI_REPAIRED_RID,
    URI_RID,
    URI_TRANSPORT_CC,
    CodecParameters,
    HeaderExtensionIds,
)
from control.meetings.sdp.model import (
    PROTOCOL,
    Group,
    HeaderExtension,
    MediaSection,
    RtpCodec,
    SdpError,
    SessionDescription,
    SsrcAttribute,
    SsrcGroup,
    new_origin,
)
from control.meetings.sdp.transport import (
    ConnectWebRtcTransport,
    TransportParameters,
    remote_transport,
    transport_section,
)

#: The ids we offer to subscribers; the answerer must keep them or drop the extension (RFC 8285).
#: The engine writes them in every packet it sends to the subscriber, whatever ids each publisher used.
SUBSCRIBER_EXTENSIONS = HeaderExtensionIds(mid=1, abs_send_time=2, transport_cc=3, audio_level=4)


@dataclass(frozen=True)
class ConsumerDescription:
    """One consumer as a subscriber's m-section: the engine's SSRCs, one codec (and its RTX)."""

    mid: str
    kind: str
    ssrc: int
    codec: CodecParameters
    cname: str
    stream_id: str
    track_id: str
    rtx_ssrc: int | None = None
    active: bool = True
    """False: the consumer ended; its m-section stays, `a=inactive` and BUNDLEd, without SSRCs."""


@dataclass(frozen=True)
class SubscriberAnswer:
    connect: ConnectWebRtcTransport
    accepted: tuple[str, ...]
    """The mids that will receive."""
    rejected: tuple[str, ...]
    """The mids that will not: offered or answered inactive, or refused with port 0."""
    header_extensions: dict[str, HeaderExtensionIds]
    """Per accepted mid, the extension ids the subscriber agreed to."""

    def agreed_extensions(self) -> HeaderExtensionIds:
        """The ids the subscriber's transport agreed to, over every accepted section (BUNDLE: one id
        space per transport, and the answer keeps our ids or drops the extension)."""
        ids: dict[str, int] = {}
        for section in self.header_extensions.values():
            for name, value in vars(section).items():
                if value is not None:
                    ids.setdefault(name, value)
        return HeaderExtensionIds(**ids)


def _subscriber_extensions(kind: str, ids: HeaderExtensionIds) -> list[HeaderExtension]:
    # sdes:mid: the engine writes each consumer's own m-section (engine/extensions.pxi). No RID: a
    # subscriber receives one stream per m-section.
    excluded = (URI_RID, URI_REPAIRED_RID)
    allowed = [uri for uri in SUPPORTED_EXTENSIONS[kind] if uri not in excluded]
    return sorted((HeaderExtension(i, uri) for uri, i in ids.items() if uri in allowed), key=lambda e: e.id)


def _subscriber_feedback(feedback: tuple[str, ...], numbered: bool) -> list[str]:
    # transport-cc toward a subscriber: the engine numbers what it sends there and reads the
    # browser's feedback into that transport's bandwidth estimate (engine/twcc.pxi); a browser sends
    # that feedback only for codecs offered with it. (Publishers are not offered it: publisher.py.)
    out = [fb for fb in feedback if fb != "transport-cc"]
    return [*out, "transport-cc"] if numbered else out


def build_subscriber_offer(
    consumers: list[ConsumerDescription],
    local: TransportParameters,
    *,
    session_id: int | None = None,
    version: int = 1,
    extensions: HeaderExtensionIds = SUBSCRIBER_EXTENSIONS,
) -> str:
    """An offer with one m-section per consumer (sendonly, or inactive once it ended), all on our
    single BUNDLEd transport."""
    if not consumers:
        raise SdpError("a subscriber offer needs at least one consumer")
    offer = SessionDescription(origin=new_origin(session_id, version), ice_lite=True)
    offer.msid_semantic = "WMS *"
    for consumer in consumers:
        codec = consumer.codec
        name = codec.mime_type.split("/", 1)[1]
        section = MediaSection(kind=consumer.kind, port=9, protocol=PROTOCOL, formats=[])
        section.mid = consumer.mid
        # the same transport in every section, inactive ones included: each is in the BUNDLE group
        transport_section(section, local, "actpass")
        section.rtcp_rsize = True
        section.extmaps = _subscriber_extensions(consumer.kind, extensions)
        numbered = any(e.uri == URI_TRANSPORT_CC for e in section.extmaps)
        if not consumer.active:
            section.direction = "inactive"
            section.codecs = [RtpCodec(codec.payload_type, name, codec.clock_rate, codec.channels)]
            section.formats = [str(codec.payload_type)]
            offer.media.append(section)
            continue
        section.direction = "sendonly"
        section.msid = [f"{consumer.stream_id} {consumer.track_id}"]
        section.codecs = [
            RtpCodec(
                codec.payload_type,
                name,
                codec.clock_rate,
                codec.channels,
                dict(codec.parameters),
                _subscriber_feedback(codec.rtcp_feedback, numbered),
            )
        ]
        ssrcs = [consumer.ssrc]  # the caller's: the offer announces them, never chooses them
        if codec.rtx_payload_type is not None and consumer.rtx_ssrc is not None:
            ssrcs.append(consumer.rtx_ssrc)
            section.codecs.append(
                RtpCodec(codec.rtx_payload_type, "rtx", codec.clock_rate, None, {"apt": str(codec.payload_type)})
            )
            section.ssrc_groups = [SsrcGroup("FID", [consumer.ssrc, consumer.rtx_ssrc])]
        section.formats = [str(c.payload_type) for c in section.codecs]
        for ssrc in ssrcs:
            section.ssrcs += [
                SsrcAttribute(ssrc, "cname", consumer.cname),
                SsrcAttribute(ssrc, "msid", f"{consumer.stream_id} {consumer.track_id}"),
            ]
        offer.media.append(section)
    # every section, in order: the first mid tags the group and must not change across offers
    offer.groups = [Group("BUNDLE", [c.mid for c in consumers])]
    return offer.serialize()


def parse_subscriber_answer(answer: str | SessionDescription, offer: str | SessionDescription) -> SubscriberAnswer:
    """Check a subscriber's answer against our offer; return what the engine must be told."""
    answer_s = SessionDescription.parse(answer) if isinstance(answer, str) else answer
    offer_s = SessionDescription.parse(offer) if isinstance(offer, str) else offer
    if [m.mid for m in answer_s.media] != [m.mid for m in offer_s.media]:
        raise SdpError("answer's media sections do not match the offer's mids")
    accepted: list[str] = []
    rejected: list[str] = []
    extensions: dict[str, HeaderExtensionIds] = {}
    connect: ConnectWebRtcTransport | None = None
    for offered, media in zip(offer_s.media, answer_s.media):
        assert media.mid is not None
        if media.port == 0:
            rejected.append(media.mid)
            continue
        if media.kind != offered.kind:
            raise SdpError(f"media section {media.mid!r} changed kind in the answer")
        if connect is None:  # the BUNDLE transport: the first section the answer kept, inactive or not
            ufrag, pwd, fingerprints, setup = remote_transport(answer_s, media)
            if setup == "active":
                role = "server"
            elif setup == "passive":
                role = "client"
            else:
                raise SdpError(f"an answer's a=setup must be active or passive, not {setup!r}")
            connect = ConnectWebRtcTransport(role, fingerprints, ufrag, pwd)
        if offered.port == 0 or offered.direction == "inactive" or media.direction == "inactive":
            rejected.append(media.mid)
            continue
        offered_ext = {(e.id, e.uri) for e in offered.extmaps}
        for ext in media.extmaps:
            if (ext.id, ext.uri) not in offered_ext:
                raise SdpError(f"media section {media.mid!r} answers extension {ext.uri} with id {ext.id} not offered")
        extensions[media.mid] = HeaderExtensionIds.from_media(media)
        accepted.append(media.mid)
    if connect is None:
        raise SdpError("the answer accepts no media section")
    return SubscriberAnswer(connect, tuple(accepted), tuple(rejected), extensions)
