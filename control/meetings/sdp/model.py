"""The typed SDP model (RFC 8866) with its pair `SessionDescription.parse` / `serialize`.

Unknown attributes are kept verbatim, so ``parse(serialize(parse(x))) == parse(x)``; parse errors
are `SdpError` with the line number and what is wrong.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

CRLF = "\r\n"
PROTOCOL = "UDP/TLS/RTP/SAVPF"
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


class SdpError(ValueError):
    """The SDP cannot be parsed, or cannot be answered."""


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
        media.extmaps.append(HeaderExtension(int(ext_id), uri, direction or None, rest[0] if rest else None))
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
        media.simulcast = Simulcast(direction, [alternatives.split(",") for alternatives in streams.strip().split(";")])
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


def new_origin(session_id: int | None, version: int) -> str:
    """The o= value of a description we write; a random session id unless one is given."""
    if session_id is None:
        session_id = secrets.randbits(62)
    return f"podium {session_id} {version} IN IP4 0.0.0.0"
