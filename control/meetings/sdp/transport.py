"""The one BUNDLEd WebRTC transport of a participant, as both directions describe it.

Our side (ICE-lite credentials, the worker's fingerprints and host candidates) is written into every
section we send; the remote side (credentials, fingerprints, a=setup) is read from every section we
receive, falling back to the session level.
"""

from __future__ import annotations

from dataclasses import dataclass

from control.meetings.sdp.model import (
    Candidate,
    MediaSection,
    SdpError,
    SessionDescription,
)


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


def remote_transport(
    session: SessionDescription, media: MediaSection
) -> tuple[str, str, tuple[tuple[str, str], ...], str | None]:
    """The remote ICE credentials, DTLS fingerprints and a=setup of a section, or the session's."""
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


def transport_attributes(media: MediaSection, local: TransportParameters, setup: str) -> None:
    """Our ICE credentials, fingerprints and a=setup in one section."""
    # Repeated in every section, rejected ones included: some stacks (aiortc) require them.
    media.ice_ufrag, media.ice_pwd = local.ice_ufrag, local.ice_pwd
    media.fingerprints = list(local.fingerprints)
    media.setup = setup
    media.rtcp_mux = media.kind in ("audio", "video")


def transport_section(media: MediaSection, local: TransportParameters, setup: str) -> None:
    """An accepted section on our one transport: its address, attributes and candidates."""
    host, port = local.candidates[0] if local.candidates else ("0.0.0.0", 9)
    media.port = port
    media.connection = _connection_line(host)
    transport_attributes(media, local, setup)
    media.candidates = _local_candidates(local)
    media.end_of_candidates = True
