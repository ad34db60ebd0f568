"""SDP for the signaling side: Unified Plan offers and answers (RFC 8866, RFC 8829 JSEP).

The engine never sees SDP. This package turns a participant's SDP into plain engine operations, and
the engine's transports, producers and consumers into SDP:

Publishing (the browser offers, we answer; `publisher`)::

    local = TransportParameters(ice_ufrag, ice_pwd, fingerprints=cert.fingerprints(),
                                candidates=[("203.0.113.7", 40000)])
    result = answer_offer(offer_text, local)
    result.answer                    # SDP text: a=ice-lite, BUNDLE, rtcp-mux, recvonly sections
    result.operations                # [CreateWebRtcTransport, ConnectWebRtcTransport, Produce...]

Subscribing (we offer, the browser answers; `subscriber`)::

    offer = build_subscriber_offer(consumers, local)      # consumers: [ConsumerDescription]
    result = parse_subscriber_answer(answer_text, offer)  # -> SubscriberAnswer
    result.connect                   # ConnectWebRtcTransport (the DTLS role we take, fingerprints)
    result.accepted / result.rejected                     # mids

Operations are frozen dataclasses with no behaviour; the control plane maps them onto the engine
channel. `model` holds the typed description both directions use (`SessionDescription.parse` /
`serialize`), `codecs` what Podium forwards and how it is negotiated, `transport` the ICE and DTLS
attributes of the one BUNDLEd transport.
"""

from control.meetings.sdp.codecs import (
    SUPPORTED_EXTENSIONS,
    SUPPORTED_FEEDBACK,
    SUPPORTED_H264_PROFILES,
    URI_ABS_SEND_TIME,
    URI_AUDIO_LEVEL,
    URI_MID,
    URI_REPAIRED_RID,
    URI_RID,
    URI_TRANSPORT_CC,
    CodecParameters,
    HeaderExtensionIds,
    negotiate_codecs,
)
from control.meetings.sdp.model import (
    Candidate,
    Group,
    HeaderExtension,
    MediaSection,
    Rid,
    RtpCodec,
    SdpError,
    SessionDescription,
    Simulcast,
    SsrcAttribute,
    SsrcGroup,
)
from control.meetings.sdp.publisher import Encoding, OfferAnswer, Produce, answer_offer
from control.meetings.sdp.subscriber import (
    SUBSCRIBER_EXTENSIONS,
    ConsumerDescription,
    SubscriberAnswer,
    build_subscriber_offer,
    parse_subscriber_answer,
)
from control.meetings.sdp.transport import (
    ConnectWebRtcTransport,
    CreateWebRtcTransport,
    TransportParameters,
)

__all__ = [
    "SUBSCRIBER_EXTENSIONS",
    "SUPPORTED_EXTENSIONS",
    "SUPPORTED_FEEDBACK",
    "SUPPORTED_H264_PROFILES",
    "URI_ABS_SEND_TIME",
    "URI_AUDIO_LEVEL",
    "URI_MID",
    "URI_REPAIRED_RID",
    "URI_RID",
    "URI_TRANSPORT_CC",
    "Candidate",
    "CodecParameters",
    "ConnectWebRtcTransport",
    "ConsumerDescription",
    "CreateWebRtcTransport",
    "Encoding",
    "Group",
    "HeaderExtension",
    "HeaderExtensionIds",
    "MediaSection",
    "OfferAnswer",
    "Produce",
    "Rid",
    "RtpCodec",
    "SdpError",
    "SessionDescription",
    "Simulcast",
    "SsrcAttribute",
    "SsrcGroup",
    "SubscriberAnswer",
    "TransportParameters",
    "answer_offer",
    "build_subscriber_offer",
    "negotiate_codecs",
    "parse_subscriber_answer",
]
