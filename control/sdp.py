"""SDP for the signaling side: Unified Plan offers and answers (RFC 8866, RFC 8829 JSEP).

The engine never sees SDP. This module turns a participant's SDP into plain engine operations, and
the engine's transports, producers and consumers into SDP:

Publishing (the browser offers, we answer)::

    local = TransportParameters(ice_ufrag, ice_pwd, fingerprints=cert.fingerprints(),
                                candidates=[("203.0.113.7", 40000)])
    result = answer_offer(offer_text, local)
    result.answer                    # SDP text: a=ice-lite, BUNDLE, rtcp-mux, recvonly sections
    result.operations                # [CreateWebRtcTransport, ConnectWebRtcTransport, Produce...]

Subscribing (we offer, the browser answers)::

    offer = build_subscriber_offer(consumers, local)      # consumers: [ConsumerDescription]
    result = parse_subscriber_answer(answer_text, offer)  # -> SubscriberAnswer
    result.connect                   # ConnectWebRtcTransport (the DTLS role we take, fingerprints)
    result.accepted / result.rejected                     # mids

Operations are frozen dataclasses with no behaviour; the control plane maps them onto the engine
channel. ``SessionDescription.parse`` / ``serialize`` give the typed model used by both directions;
unknown attributes are kept, so ``parse(serialize(parse(x))) == parse(x)``.

Supported: Opus; VP8; VP9 (profile-id 0 and 2); H264 with packetization-mode=1 and the usual
profiles; AV1; RTX for each of them. Header extensions: sdes:mid, rid, repaired-rid,
abs-send-time, ssrc-audio-level, transport-wide-cc. Simulcast by RID (no SSRCs, learned from the
MID/RID header extensions) or by SSRC (a=ssrc-group:SIM).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

CRLF = "\r\n"
PROTOCOL = "UDP/TLS/RTP/SAVPF"

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


class SdpError(ValueError):
    """The SDP cannot be parsed, or cannot be answered."""


# -- the typed model ------------------------------------------------------------------------------


@dataclass
class RtpCodec:
    """One payload type: a=rtpmap, a=fmtp and a=rtcp-fb lines."""

    payload_type: int
    name: str
    clock_rate: int
    channels: int | None = None
    parameters: dict[str, str | None] = field(default_factory=dict)
    """fmtp parameters in order; a value-less token (``0-15``) is a key with value ``None``."""
    feedback: list[str] = field(default_factory=list)
    """rtcp-fb values: ``nack``, ``nack pli``, ``transport-cc``..."""

    def rtpmap(self) -> str:
        value = f"{self.payload_type} {self.name}/{self.clock_rate}"
        return value + (f"/{self.channels}" if self.channels else "")

    def fmtp(self) -> str | None:
        if not self.parameters:
            return None
        tokens = [k if v is None else f"{k}={v}" for k, v in self.parameters.items()]
        return f"{self.payload_type} " + ";".join(tokens)


@dataclass
class HeaderExtension:
    """a=extmap:<id>[/<direction>] <uri> [<attributes>]"""

    id: int
    uri: str
    direction: str | None = None
    attributes: str | None = None


@dataclass
class SsrcAttribute:
    """a=ssrc:<ssrc> <name>[:<value>]"""

    ssrc: int
    name: str
    value: str | None = None


@dataclass
class SsrcGroup:
    """a=ssrc-group:<semantics> <ssrc>... (FID: primary then RTX; SIM: simulcast layers)."""

    semantics: str
    ssrcs: list[int]


@dataclass
class Rid:
    """a=rid:<id> <send|recv> [<restrictions>] (RFC 8851)."""

    id: str
    direction: str
    restrictions: str | None = None


@dataclass
class Simulcast:
    """a=simulcast:<send|recv> <streams> (RFC 8853); each stream lists alternative RIDs."""

    direction: str
    streams: list[list[str]]
    """RIDs per stream, alternatives in order; a paused RID keeps its ``~`` prefix."""

    def rids(self) -> list[str]:
        return [alternatives[0].lstrip("~") for alternatives in self.streams]


@dataclass
class Candidate:
    """a=candidate (RFC 8839 section 5.1)."""

    foundation: str
    component: int
    transport: str
    priority: int
    host: str
    port: int
    type: str
    extensions: list[tuple[str, str]] = field(default_factory=list)
    """Trailing ``name value`` pairs: raddr, rport, tcptype, generation..."""

    @classmethod
    def parse(cls, value: str) -> Candidate:
        tokens = value.split()
        if len(tokens) < 8 or tokens[6] != "typ":
            raise SdpError(f"candidate is malformed: {value!r}")
        try:
            component, priority, port = int(tokens[1]), int(tokens[3]), int(tokens[5])
        except ValueError:
            raise SdpError(f"candidate has a non-numeric field: {value!r}") from None
        rest = tokens[8:]
        if len(rest) % 2:
            raise SdpError(f"candidate has an odd number of extension tokens: {value!r}")
        extensions = [(rest[i], rest[i + 1]) for i in range(0, len(rest), 2)]
        return cls(tokens[0], component, tokens[2], priority, tokens[4], port, tokens[7], extensions)

    def serialize(self) -> str:
        value = (
            f"{self.foundation} {self.component} {self.transport} {self.priority} "
            f"{self.host} {self.port} typ {self.type}"
        )
        return value + "".join(f" {name} {v}" for name, v in self.extensions)


@dataclass
class MediaSection:
    """One m= section with the attributes this module understands, and the others verbatim."""

    kind: str
    port: int
    protocol: str
    formats: list[str]
    connection: str | None = None
    bandwidths: list[str] = field(default_factory=list)
    mid: str | None = None
    direction: str | None = None
    msid: list[str] = field(default_factory=list)
    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    ice_options: str | None = None
    fingerprints: list[tuple[str, str]] = field(default_factory=list)
    setup: str | None = None
    candidates: list[Candidate] = field(default_factory=list)
    end_of_candidates: bool = False
    rtcp: str | None = None
    rtcp_mux: bool = False
    rtcp_rsize: bool = False
    extmaps: list[HeaderExtension] = field(default_factory=list)
    extmap_allow_mixed: bool = False
    codecs: list[RtpCodec] = field(default_factory=list)
    ssrc_groups: list[SsrcGroup] = field(default_factory=list)
    ssrcs: list[SsrcAttribute] = field(default_factory=list)
    rids: list[Rid] = field(default_factory=list)
    simulcast: Simulcast | None = None
    attributes: list[tuple[str, str | None]] = field(default_factory=list)
    """Attributes not modelled above (sctp-port, max-message-size, ...), in order."""

    def codec(self, payload_type: int) -> RtpCodec | None:
        for codec in self.codecs:
            if codec.payload_type == payload_type:
                return codec
        return None

    def extension_id(self, uri: str) -> int | None:
        for extension in self.extmaps:
            if extension.uri == uri:
                return extension.id
        return None

    def ssrc_list(self) -> list[int]:
        """SSRCs in order of first appearance."""
        seen: list[int] = []
        for group in self.ssrc_groups:
            for ssrc in group.ssrcs:
                if ssrc not in seen:
                    seen.append(ssrc)
        for attribute in self.ssrcs:
            if attribute.ssrc not in seen:
                seen.append(attribute.ssrc)
        return seen

    def ssrc_attribute(self, ssrc: int, name: str) -> str | None:
        for attribute in self.ssrcs:
            if attribute.ssrc == ssrc and attribute.name == name:
                return attribute.value
        return None


@dataclass
class Group:
    """a=group:<semantics> <mid>... (RFC 5888; BUNDLE: RFC 9143)."""

    semantics: str
    mids: list[str]


@dataclass
class SessionDescription:
    origin: str = "- 0 0 IN IP4 0.0.0.0"
    name: str = "-"
    timing: str = "0 0"
    connection: str | None = None
    bandwidths: list[str] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    msid_semantic: str | None = None
    ice_lite: bool = False
    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    ice_options: str | None = None
    fingerprints: list[tuple[str, str]] = field(default_factory=list)
    setup: str | None = None
    extmap_allow_mixed: bool = False
    attributes: list[tuple[str, str | None]] = field(default_factory=list)
    media: list[MediaSection] = field(default_factory=list)

    # -- parse ------------------------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> SessionDescription:
        session = cls()
        current: MediaSection | None = None
        saw_version = False
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            if len(line) < 2 or line[1] != "=":
                raise SdpError(f"SDP line {number} is not of the form <type>=<value>: {line!r}")
            kind, value = line[0], line[2:]
            if kind == "v":
                if value != "0":
                    raise SdpError(f"SDP version must be 0, not {value!r}")
                saw_version = True
            elif kind == "m":
                current = _parse_m_line(value, number)
                session.media.append(current)
            elif kind == "o" and current is None:
                session.origin = value
            elif kind == "s" and current is None:
                session.name = value
            elif kind == "t" and current is None:
                session.timing = value
            elif kind == "c":
                if current is None:
                    session.connection = value
                else:
                    current.connection = value
            elif kind == "b":
                (session if current is None else current).bandwidths.append(value)
            elif kind == "a":
                name, sep, attr_value = value.partition(":")
                try:
                    if current is None:
                        _parse_session_attribute(session, name, attr_value if sep else None)
                    else:
                        _parse_media_attribute(current, name, attr_value if sep else None)
                except SdpError:
                    raise
                except (ValueError, IndexError):
                    raise SdpError(f"SDP line {number} has a malformed a={name}: {line!r}") from None
            # other line types (i=, u=, e=, p=, z=, k=, r=) carry nothing WebRTC needs
        if not saw_version:
            raise SdpError("SDP has no v= line")
        return session

    # -- serialize --------------------------------------------------------------------------------

    def serialize(self) -> str:
        lines = ["v=0", f"o={self.origin}", f"s={self.name}"]
        if self.connection:
            lines.append(f"c={self.connection}")
        lines += [f"b={b}" for b in self.bandwidths]
        lines.append(f"t={self.timing}")
        if self.ice_lite:
            lines.append("a=ice-lite")
        lines += _ice_dtls_lines(self)
        for group in self.groups:
            lines.append(f"a=group:{' '.join([group.semantics, *group.mids])}")
        if self.extmap_allow_mixed:
            lines.append("a=extmap-allow-mixed")
        if self.msid_semantic is not None:
            lines.append(f"a=msid-semantic:{self.msid_semantic}")
        lines += [_attribute_line(n, v) for n, v in self.attributes]
        for media in self.media:
            lines += _media_lines(media)
        return CRLF.join(lines) + CRLF


def _parse_m_line(value: str, number: int) -> MediaSection:
    tokens = value.split()
    if len(tokens) < 4:
        raise SdpError(f"SDP line {number}: m= needs media, port, protocol and formats: {value!r}")
    try:
        port = int(tokens[1].split("/")[0])
    except ValueError:
        raise SdpError(f"SDP line {number}: m= port is not a number: {tokens[1]!r}") from None
    return MediaSection(kind=tokens[0], port=port, protocol=tokens[2], formats=tokens[3:])


def _parse_fingerprint(value: str) -> tuple[str, str]:
    algorithm, fingerprint = value.split()
    return algorithm.lower(), fingerprint.upper()


def _parse_session_attribute(session: SessionDescription, name: str, value: str | None) -> None:
    if name == "group" and value is not None:
        semantics, *mids = value.split()
        session.groups.append(Group(semantics, mids))
    elif name == "msid-semantic":
        session.msid_semantic = value
    elif name == "ice-lite":
        session.ice_lite = True
    elif name == "ice-ufrag":
        session.ice_ufrag = value
    elif name == "ice-pwd":
        session.ice_pwd = value
    elif name == "ice-options":
        session.ice_options = value
    elif name == "fingerprint" and value is not None:
        session.fingerprints.append(_parse_fingerprint(value))
    elif name == "setup":
        session.setup = value
    elif name == "extmap-allow-mixed":
        session.extmap_allow_mixed = True
    else:
        session.attributes.append((name, value))


DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


def _parse_media_attribute(media: MediaSection, name: str, value: str | None) -> None:
    if name in DIRECTIONS:
        media.direction = name
    elif name == "mid":
        media.mid = value
    elif name == "msid" and value is not None:
        media.msid.append(value)
    elif name == "ice-ufrag":
        media.ice_ufrag = value
    elif name == "ice-pwd":
        media.ice_pwd = value
    elif name == "ice-options":
        media.ice_options = value
    elif name == "fingerprint" and value is not None:
        media.fingerprints.append(_parse_fingerprint(value))
    elif name == "setup":
        media.setup = value
    elif name == "candidate" and value is not None:
        media.candidates.append(Candidate.parse(value))
    elif name == "end-of-candidates":
        media.end_of_candidates = True
    elif name == "rtcp":
        media.rtcp = value
    elif name == "rtcp-mux":
        media.rtcp_mux = True
    elif name == "rtcp-rsize":
        media.rtcp_rsize = True
    elif name == "extmap-allow-mixed":
        media.extmap_allow_mixed = True
    elif name == "extmap" and value is not None:
        head, uri, *rest = value.split(" ", 2)
        ext_id, _, direction = head.partition("/")
        media.extmaps.append(
            HeaderExtension(int(ext_id), uri, direction or None, rest[0] if rest else None)
        )
    elif name == "rtpmap" and value is not None:
        pt, encoding = value.split(" ", 1)
        codec_name, clock, *channels = encoding.split("/")
        codec = _codec_for(media, int(pt))
        codec.name, codec.clock_rate = codec_name, int(clock)
        codec.channels = int(channels[0]) if channels else None
    elif name == "fmtp" and value is not None:
        pt, _, params = value.partition(" ")
        codec = _codec_for(media, int(pt))
        for token in params.split(";"):
            token = token.strip()
            if token:
                key, sep, v = token.partition("=")
                codec.parameters[key.strip()] = v.strip() if sep else None
    elif name == "rtcp-fb" and value is not None:
        pt, feedback = value.split(" ", 1)
        if pt == "*":
            media.attributes.append((name, value))
        else:
            _codec_for(media, int(pt)).feedback.append(feedback)
    elif name == "ssrc" and value is not None:
        ssrc, _, attribute = value.partition(" ")
        attr_name, sep, attr_value = attribute.partition(":")
        media.ssrcs.append(SsrcAttribute(int(ssrc), attr_name, attr_value if sep else None))
    elif name == "ssrc-group" and value is not None:
        semantics, *ssrcs = value.split()
        media.ssrc_groups.append(SsrcGroup(semantics, [int(s) for s in ssrcs]))
    elif name == "rid" and value is not None:
        rid_id, direction, *restrictions = value.split(" ", 2)
        if direction not in ("send", "recv"):
            raise SdpError(f"rid direction must be send or recv, not {direction!r}")
        media.rids.append(Rid(rid_id, direction, restrictions[0] if restrictions else None))
    elif name == "simulcast" and value is not None:
        direction, streams = value.split(" ", 1)
        if direction not in ("send", "recv"):
            raise SdpError(f"simulcast direction must be send or recv, not {direction!r}")
        media.simulcast = Simulcast(
            direction, [alternatives.split(",") for alternatives in streams.strip().split(";")]
        )
    else:
        media.attributes.append((name, value))


def _codec_for(media: MediaSection, payload_type: int) -> RtpCodec:
    codec = media.codec(payload_type)
    if codec is None:
        # fmtp or rtcp-fb may precede rtpmap; the name is filled in when rtpmap comes.
        codec = RtpCodec(payload_type, "", 0)
        media.codecs.append(codec)
    return codec


def _attribute_line(name: str, value: str | None) -> str:
    return f"a={name}" if value is None else f"a={name}:{value}"


def _ice_dtls_lines(section: SessionDescription | MediaSection) -> list[str]:
    lines = []
    if section.ice_ufrag is not None:
        lines.append(f"a=ice-ufrag:{section.ice_ufrag}")
    if section.ice_pwd is not None:
        lines.append(f"a=ice-pwd:{section.ice_pwd}")
    if section.ice_options is not None:
        lines.append(f"a=ice-options:{section.ice_options}")
    lines += [f"a=fingerprint:{algorithm} {value}" for algorithm, value in section.fingerprints]
    if section.setup is not None:
        lines.append(f"a=setup:{section.setup}")
    return lines


def _media_lines(media: MediaSection) -> list[str]:
    lines = [f"m={media.kind} {media.port} {media.protocol} {' '.join(media.formats)}"]
    if media.connection:
        lines.append(f"c={media.connection}")
    lines += [f"b={b}" for b in media.bandwidths]
    if media.rtcp is not None:
        lines.append(f"a=rtcp:{media.rtcp}")
    lines += _ice_dtls_lines(media)
    if media.mid is not None:
        lines.append(f"a=mid:{media.mid}")
    for ext in media.extmaps:
        head = f"{ext.id}/{ext.direction}" if ext.direction else str(ext.id)
        tail = f" {ext.attributes}" if ext.attributes else ""
        lines.append(f"a=extmap:{head} {ext.uri}{tail}")
    if media.extmap_allow_mixed:
        lines.append("a=extmap-allow-mixed")
    if media.direction is not None:
        lines.append(f"a={media.direction}")
    lines += [f"a=msid:{msid}" for msid in media.msid]
    if media.rtcp_mux:
        lines.append("a=rtcp-mux")
    if media.rtcp_rsize:
        lines.append("a=rtcp-rsize")
    for codec in media.codecs:
        if codec.name:
            lines.append(f"a=rtpmap:{codec.rtpmap()}")
        lines += [f"a=rtcp-fb:{codec.payload_type} {fb}" for fb in codec.feedback]
        fmtp = codec.fmtp()
        if fmtp is not None:
            lines.append(f"a=fmtp:{fmtp}")
    for group in media.ssrc_groups:
        lines.append(f"a=ssrc-group:{' '.join([group.semantics, *map(str, group.ssrcs)])}")
    for attr in media.ssrcs:
        tail = f"{attr.name}:{attr.value}" if attr.value is not None else attr.name
        lines.append(f"a=ssrc:{attr.ssrc} {tail}")
    for rid in media.rids:
        tail = f" {rid.restrictions}" if rid.restrictions else ""
        lines.append(f"a=rid:{rid.id} {rid.direction}{tail}")
    if media.simulcast is not None:
        streams = ";".join(",".join(alternatives) for alternatives in media.simulcast.streams)
        lines.append(f"a=simulcast:{media.simulcast.direction} {streams}")
    lines += [f"a=candidate:{c.serialize()}" for c in media.candidates]
    if media.end_of_candidates:
        lines.append("a=end-of-candidates")
    lines += [_attribute_line(n, v) for n, v in media.attributes]
    return lines


# -- engine operations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TransportParameters:
    """Our side of a WebRTC transport: what the engine worker gives the control plane."""

    ice_ufrag: str
    ice_pwd: str
    fingerprints: tuple[tuple[str, str], ...] | list[tuple[str, str]]
    """The worker certificate's fingerprints, e.g. ``[("sha-256", "AB:CD:...")]``."""
    candidates: tuple[tuple[str, int], ...] | list[tuple[str, int]]
    """The worker's host candidates ``(ip, port)``: the UDP socket every transport shares."""


@dataclass(frozen=True)
class CreateWebRtcTransport:
    """Create the transport with our ICE credentials (the worker's certificate is implied)."""

    ice_ufrag: str
    ice_pwd: str


@dataclass(frozen=True)
class ConnectWebRtcTransport:
    """Give the transport what the remote SDP says about its peer."""

    dtls_role: str
    """``"server"`` or ``"client"``: our DTLS role, decided by a=setup."""
    remote_fingerprints: tuple[tuple[str, str], ...]
    remote_ice_ufrag: str
    remote_ice_pwd: str


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
class Encoding:
    """One RTP stream of a producer: by SSRC, by RID (SSRC learned from RTP), or neither (by MID)."""

    ssrc: int | None = None
    rid: str | None = None
    rtx_ssrc: int | None = None


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


# -- codec negotiation ----------------------------------------------------------------------------


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


def _codec_parameters(kind: str, codecs: list[RtpCodec]) -> tuple[CodecParameters, ...]:
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


# -- answering a publisher's offer ----------------------------------------------------------------


def _dtls_role_for(remote_setup: str | None) -> tuple[str, str]:
    """(our DTLS role, our a=setup) for the remote's a=setup (RFC 5763 section 5)."""
    if remote_setup in (None, "actpass", "active"):
        return "server", "passive"
    if remote_setup == "passive":
        return "client", "active"
    raise SdpError(f"unsupported a=setup:{remote_setup}")


def _remote_transport(session: SessionDescription, media: MediaSection) -> tuple[str, str, tuple, str | None]:
    ufrag = media.ice_ufrag or session.ice_ufrag
    pwd = media.ice_pwd or session.ice_pwd
    fingerprints = tuple(media.fingerprints or session.fingerprints)
    setup = media.setup or session.setup
    if not ufrag or not pwd:
        raise SdpError(f"media section {media.mid!r} has no ICE credentials")
    if not fingerprints:
        raise SdpError(f"media section {media.mid!r} has no DTLS fingerprint")
    return ufrag, pwd, fingerprints, setup


def _connection_line(host: str) -> str:
    return f"IN IP6 {host}" if ":" in host else f"IN IP4 {host}"


def _local_candidates(local: TransportParameters) -> list[Candidate]:
    candidates = []
    for index, (host, port) in enumerate(local.candidates):
        # RFC 8445 section 5.1.2: host type preference 126, local preference by order.
        priority = (126 << 24) | ((65535 - index) << 8) | 255
        candidates.append(Candidate(f"udpcandidate{index}", 1, "udp", priority, host, port, "host"))
    return candidates


def _new_origin(session_id: int | None, version: int) -> str:
    if session_id is None:
        session_id = secrets.randbits(62)
    return f"podium {session_id} {version} IN IP4 0.0.0.0"


def _transport_attributes(media: MediaSection, local: TransportParameters, setup: str) -> None:
    # Repeated in every section, rejected ones included: some stacks (aiortc) require them.
    media.ice_ufrag, media.ice_pwd = local.ice_ufrag, local.ice_pwd
    media.fingerprints = list(local.fingerprints)
    media.setup = setup
    media.rtcp_mux = media.kind in ("audio", "video")


def _transport_section(media: MediaSection, local: TransportParameters, setup: str) -> None:
    host, port = local.candidates[0] if local.candidates else ("0.0.0.0", 9)
    media.port = port
    media.connection = _connection_line(host)
    _transport_attributes(media, local, setup)
    media.candidates = _local_candidates(local)
    media.end_of_candidates = True


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

    answer = SessionDescription(origin=_new_origin(session_id, version), ice_lite=True)
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
        ufrag, pwd, fingerprints, setup = _remote_transport(session, media)
        if connect is None:
            role, our_setup = _dtls_role_for(setup)
            connect = ConnectWebRtcTransport(role, fingerprints, ufrag, pwd)
        elif (ufrag, pwd) != (connect.remote_ice_ufrag, connect.remote_ice_pwd):
            raise SdpError(f"media section {media.mid!r} does not share the BUNDLE transport")

        section = MediaSection(kind=media.kind, port=9, protocol=media.protocol, formats=[])
        section.mid = media.mid
        _transport_section(section, local, our_setup)
        section.rtcp_rsize = media.rtcp_rsize
        section.extmap_allow_mixed = media.extmap_allow_mixed
        section.codecs = codecs
        section.formats = [str(c.payload_type) for c in codecs]
        supported_uris = SUPPORTED_EXTENSIONS[media.kind]
        section.extmaps = [
            HeaderExtension(e.id, e.uri) for e in media.extmaps if e.uri in supported_uris
        ]
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
        _transport_attributes(section, local, our_setup)
    operations.append(CreateWebRtcTransport(local.ice_ufrag, local.ice_pwd))
    operations.append(connect)
    operations += produces
    return OfferAnswer(answer.serialize(), operations)


def _rejected(media: MediaSection) -> MediaSection:
    """JSEP 5.3.1: a rejected section keeps its kind, protocol and mid, with port 0."""
    section = MediaSection(
        kind=media.kind, port=0, protocol=media.protocol, formats=list(media.formats[:1] or ["0"])
    )
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
    msid = offer.msid[0] if offer.msid else (
        offer.ssrc_attribute(first_ssrc, "msid") if first_ssrc is not None else None
    )
    if msid:
        stream_id, _, track_id = msid.partition(" ")
        track_id = track_id or None
    return Produce(
        mid=offer.mid or "",
        kind=offer.kind,
        codecs=_codec_parameters(offer.kind, codecs),
        encodings=encodings,
        header_extensions=HeaderExtensionIds.from_media(answer),
        cname=cname,
        stream_id=stream_id,
        track_id=track_id,
    )


# -- offering to a subscriber ---------------------------------------------------------------------

#: The ids we offer to subscribers; the answerer must keep them or drop the extension (RFC 8285).
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
    """A closed consumer keeps its m-section (mids are never reused) with port 0."""


@dataclass(frozen=True)
class SubscriberAnswer:
    connect: ConnectWebRtcTransport
    accepted: tuple[str, ...]
    rejected: tuple[str, ...]
    header_extensions: dict[str, HeaderExtensionIds]
    """Per accepted mid, the extension ids the subscriber agreed to."""


def _subscriber_extensions(kind: str, ids: HeaderExtensionIds) -> list[HeaderExtension]:
    # No sdes:mid: the engine forwards header extensions unchanged, so a forwarded packet carries the
    # MID it had on its publisher's connection, which names another m-section here. A receiver that
    # demultiplexes by MID before SSRC (Chromium) would route it to the wrong track; without the
    # extension it demultiplexes by the SSRC this offer announces per consumer.
    excluded = (URI_MID, URI_RID, URI_REPAIRED_RID)
    allowed = [uri for uri in SUPPORTED_EXTENSIONS[kind] if uri not in excluded]
    return sorted(
        (HeaderExtension(i, uri) for uri, i in ids.items() if uri in allowed), key=lambda e: e.id
    )


def build_subscriber_offer(
    consumers: list[ConsumerDescription],
    local: TransportParameters,
    *,
    session_id: int | None = None,
    version: int = 1,
    extensions: HeaderExtensionIds = SUBSCRIBER_EXTENSIONS,
) -> str:
    """An offer with one sendonly m-section per consumer, on our single BUNDLEd transport."""
    if not consumers:
        raise SdpError("a subscriber offer needs at least one consumer")
    offer = SessionDescription(origin=_new_origin(session_id, version), ice_lite=True)
    offer.msid_semantic = "WMS *"
    bundled: list[str] = []
    for consumer in consumers:
        codec = consumer.codec
        name = codec.mime_type.split("/", 1)[1]
        if not consumer.active:
            section = MediaSection(kind=consumer.kind, port=0, protocol=PROTOCOL, formats=[str(codec.payload_type)])
            section.connection = "IN IP4 0.0.0.0"
            _transport_attributes(section, local, "actpass")
            section.mid = consumer.mid
            section.direction = "inactive"
            section.codecs = [RtpCodec(codec.payload_type, name, codec.clock_rate, codec.channels)]
            offer.media.append(section)
            continue
        section = MediaSection(kind=consumer.kind, port=9, protocol=PROTOCOL, formats=[])
        section.mid = consumer.mid
        _transport_section(section, local, "actpass")
        section.rtcp_rsize = True
        section.direction = "sendonly"
        section.msid = [f"{consumer.stream_id} {consumer.track_id}"]
        section.extmaps = _subscriber_extensions(consumer.kind, extensions)
        section.codecs = [
            RtpCodec(codec.payload_type, name, codec.clock_rate, codec.channels,
                     dict(codec.parameters), list(codec.rtcp_feedback))
        ]
        if codec.rtx_payload_type is not None and consumer.rtx_ssrc is not None:
            section.codecs.append(
                RtpCodec(codec.rtx_payload_type, "rtx", codec.clock_rate, None, {"apt": str(codec.payload_type)})
            )
            section.ssrc_groups = [SsrcGroup("FID", [consumer.ssrc, consumer.rtx_ssrc])]
        section.formats = [str(c.payload_type) for c in section.codecs]
        for ssrc in [consumer.ssrc] + ([consumer.rtx_ssrc] if section.ssrc_groups else []):
            section.ssrcs += [
                SsrcAttribute(ssrc, "cname", consumer.cname),
                SsrcAttribute(ssrc, "msid", f"{consumer.stream_id} {consumer.track_id}"),
            ]
        offer.media.append(section)
        bundled.append(consumer.mid)
    if not bundled:
        raise SdpError("a subscriber offer needs at least one active consumer")
    offer.groups = [Group("BUNDLE", bundled)]
    return offer.serialize()


def parse_subscriber_answer(
    answer: str | SessionDescription, offer: str | SessionDescription
) -> SubscriberAnswer:
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
        if offered.port == 0 or media.port == 0 or media.direction == "inactive":
            rejected.append(media.mid)
            continue
        if media.kind != offered.kind:
            raise SdpError(f"media section {media.mid!r} changed kind in the answer")
        ufrag, pwd, fingerprints, setup = _remote_transport(answer_s, media)
        if setup == "active":
            role = "server"
        elif setup == "passive":
            role = "client"
        else:
            raise SdpError(f"an answer's a=setup must be active or passive, not {setup!r}")
        if connect is None:
            connect = ConnectWebRtcTransport(role, fingerprints, ufrag, pwd)
        offered_ext = {(e.id, e.uri) for e in offered.extmaps}
        for ext in media.extmaps:
            if (ext.id, ext.uri) not in offered_ext:
                raise SdpError(f"media section {media.mid!r} answers extension {ext.uri} with id {ext.id} not offered")
        extensions[media.mid] = HeaderExtensionIds.from_media(media)
        accepted.append(media.mid)
    if connect is None:
        raise SdpError("the answer accepts no media section")
    return SubscriberAnswer(connect, tuple(accepted), tuple(rejected), extensions)
