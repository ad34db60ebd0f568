"""What Podium forwards, and its negotiation: codecs (with RTX), RTCP feedback, header extensions.

Supported: Opus; VP8; VP9 (profile-id 0 and 2); H264 with packetization-mode=1 and the usual
profiles; AV1; RTX for each of them. Header extensions: sdes:mid, rid, repaired-rid,
abs-send-time, ssrc-audio-level, transport-wide-cc.
"""

from __future__ import annotations

from dataclasses import dataclass

from control.meetings.sdp.model import MediaSection, RtpCodec

# -- header extensions (RFC 8285) -----------------------------------------------------------------

URI_MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
URI_RID = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
URI_REPAIRED_RID = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
URI_ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
URI_AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
URI_TRANSPORT_CC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

SUPPORTED_EXTENSIONS = {
    "audio": (URI_MID, URI_ABS_SEND_TIME, URI_AUDIO_LEVEL, URI_TRANSPORT_CC),
    "video": (URI_MID, URI_RID, URI_REPAIRED_RID, URI_ABS_SEND_TIME, URI_TRANSPORT_CC),
}

#: RTCP feedback we act on (RFC 4585 nack/pli, RFC 5104 fir, REMB, transport-cc).
SUPPORTED_FEEDBACK = ("nack", "nack pli", "ccm fir", "goog-remb", "transport-cc")

#: H264 profile_idc + profile-iop (the first 4 hex digits of profile-level-id) we forward:
#: constrained baseline, baseline, main, constrained high, high (RFC 6184 section 8.1).
SUPPORTED_H264_PROFILES = ("42e0", "4200", "4d00", "640c", "6400")


@dataclass(frozen=True)
class CodecParameters:
    """One negotiated codec of a producer or consumer."""

    payload_type: int
    mime_type: str
    """``audio/opus``, ``video/VP8``, ``video/H264``..."""
    clock_rate: int
    channels: int | None = None
    parameters: tuple[tuple[str, str | None], ...] = ()
    rtcp_feedback: tuple[str, ...] = ()
    rtx_payload_type: int | None = None


@dataclass(frozen=True)
class HeaderExtensionIds:
    """RFC 8285 ids negotiated for the extensions the engine reads or writes (None: not used)."""

    mid: int | None = None
    rid: int | None = None
    repaired_rid: int | None = None
    abs_send_time: int | None = None
    audio_level: int | None = None
    transport_cc: int | None = None

    @classmethod
    def from_media(cls, media: MediaSection) -> HeaderExtensionIds:
        return cls(
            mid=media.extension_id(URI_MID),
            rid=media.extension_id(URI_RID),
            repaired_rid=media.extension_id(URI_REPAIRED_RID),
            abs_send_time=media.extension_id(URI_ABS_SEND_TIME),
            audio_level=media.extension_id(URI_AUDIO_LEVEL),
            transport_cc=media.extension_id(URI_TRANSPORT_CC),
        )

    def items(self) -> list[tuple[str, int]]:
        uris = (URI_MID, URI_RID, URI_REPAIRED_RID, URI_ABS_SEND_TIME, URI_AUDIO_LEVEL, URI_TRANSPORT_CC)
        ids = (self.mid, self.rid, self.repaired_rid, self.abs_send_time, self.audio_level, self.transport_cc)
        return [(uri, i) for uri, i in zip(uris, ids) if i is not None]


def _codec_supported(kind: str, codec: RtpCodec) -> bool:
    name = codec.name.lower()
    params = {k.lower(): v for k, v in codec.parameters.items()}
    if kind == "audio":
        return name == "opus" and codec.clock_rate == 48000 and codec.channels == 2
    if kind != "video" or codec.clock_rate != 90000:
        return False
    if name in ("vp8", "av1"):
        return True
    if name == "vp9":
        return params.get("profile-id", "0") in ("0", "2")
    if name == "h264":
        profile_level = (params.get("profile-level-id") or "42001f").lower()
        return (
            params.get("packetization-mode") == "1"
            and len(profile_level) == 6
            and profile_level[:4] in SUPPORTED_H264_PROFILES
        )
    return False


def negotiate_codecs(media: MediaSection) -> list[RtpCodec]:
    """The offered codecs we support, in the offer's order and payload types, RTX after its codec."""
    accepted: list[RtpCodec] = []
    for codec in media.codecs:
        if codec.name.lower() != "rtx" and _codec_supported(media.kind, codec):
            accepted.append(codec)
    accepted_pts = {c.payload_type for c in accepted}
    result: list[RtpCodec] = []
    for codec in media.codecs:
        if codec in accepted:
            result.append(_filter_feedback(codec))
        elif codec.name.lower() == "rtx" and media.kind == "video":
            apt = codec.parameters.get("apt")
            if apt is not None and apt.isdigit() and int(apt) in accepted_pts:
                result.append(_filter_feedback(codec))
    return result


def _filter_feedback(codec: RtpCodec) -> RtpCodec:
    return RtpCodec(
        codec.payload_type,
        codec.name,
        codec.clock_rate,
        codec.channels,
        dict(codec.parameters),
        [fb for fb in codec.feedback if fb in SUPPORTED_FEEDBACK],
    )


def codec_parameters(kind: str, codecs: list[RtpCodec]) -> tuple[CodecParameters, ...]:
    """Negotiated codecs as the engine takes them: one entry per codec, its RTX folded in."""
    rtx_for: dict[int, int] = {}
    for codec in codecs:
        if codec.name.lower() == "rtx":
            rtx_for[int(codec.parameters["apt"] or 0)] = codec.payload_type
    return tuple(
        CodecParameters(
            payload_type=codec.payload_type,
            mime_type=f"{kind}/{codec.name}",
            clock_rate=codec.clock_rate,
            channels=codec.channels,
            parameters=tuple(codec.parameters.items()),
            rtcp_feedback=tuple(codec.feedback),
            rtx_payload_type=rtx_for.get(codec.payload_type),
        )
        for codec in codecs
        if codec.name.lower() != "rtx"
    )
