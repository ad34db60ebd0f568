"""The reference of the fast path's per-consumer header extension rewrite (engine/extensions.pxi).

A publisher's packet names its extensions by the ids its transport negotiated (`source_ids`); the
packet a subscriber gets names them by the ids the subscriber's transport negotiated
(`target_ids`), carries the consumer's own sdes:mid and, last, its transport's own transport-wide
sequence number (the publisher's never passes: a subscriber transport numbers what it is sent, across
all its consumers), and nothing else: elements of an id the source
was not told of are unmapped, RID and repaired RID are never forwarded, a known extension's element
with no value or one over 16 bytes is oversize, a repeated extension keeps its first element, and a
block of a profile other than RFC 8285's is foreign. The block is the one-byte form unless an id over
14 needs the two-byte one; the MID first, then the publisher's elements in their order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from engine.rtp.common import EXTENSION_PROFILE_ONE_BYTE, EXTENSION_PROFILE_TWO_BYTE
from engine.rtp.packet import RtpPacket, _extension_form

KINDS = ("mid", "rid", "repaired_rid", "abs_send_time", "audio_level", "transport_cc")
"""The extensions the engine knows by meaning (consts.pxd ExtKind, in order)."""
NOT_FORWARDED = ("mid", "rid", "repaired_rid", "transport_cc")
VALUE_MAX = 16


@dataclass
class Scan:
    """A packet's forwardable extensions by meaning, in order, and what was left out."""

    elements: list[tuple[str, bytes]] = field(default_factory=list)
    audio_level: int | None = None
    unmapped: int = 0
    oversize: int = 0
    foreign: int = 0


def _by_id(ids: dict[str, int]) -> dict[int, str]:
    """id → extension; a later extension given the same id takes it (as the engine does)."""
    named: dict[int, str] = {}
    for name in KINDS:
        value = ids.get(name)
        if value:
            named = {i: n for i, n in named.items() if i != value}
            named[value] = name
    return named


def scan(packet: RtpPacket, source_ids: dict[str, int]) -> Scan:
    out = Scan()
    if packet.extension_profile is None or not (packet.extensions or packet.extension_data):
        return out
    if not _extension_form(packet.extension_profile):
        out.foreign = 1 if packet.extension_data else 0
        return out
    names = _by_id(source_ids)
    seen: set[str] = set()
    for ext_id, value in packet.extensions:
        if ext_id == 0:
            continue
        name = names.get(ext_id)
        if name is None:
            out.unmapped += 1
            continue
        if name in NOT_FORWARDED or name in seen:
            continue
        if not 1 <= len(value) <= VALUE_MAX:
            out.oversize += 1
            continue
        seen.add(name)
        if name == "audio_level":
            out.audio_level = value[0]
        out.elements.append((name, value))
    return out


def rewrite(
    packet: RtpPacket,
    source_ids: dict[str, int],
    target_ids: dict[str, int],
    mid: bytes | None,
    twcc_seq: int | None = None,
) -> RtpPacket:
    """The packet as a consumer with `mid` on a transport with `target_ids` gets it, numbered
    `twcc_seq` by that transport (None: it keeps no transport-wide numbering)."""
    found = scan(packet, source_ids)
    target = {name: i for i, name in _by_id(target_ids).items()}
    elements: list[tuple[int, bytes]] = []
    if mid and target.get("mid"):
        elements.append((target["mid"], mid))
    elements += [(target[name], value) for name, value in found.elements if target.get(name)]
    if twcc_seq is not None and target.get("transport_cc"):
        elements.append((target["transport_cc"], (twcc_seq & 0xFFFF).to_bytes(2, "big")))
    if not elements:
        return replace(packet, extension_profile=None, extensions=[], extension_data=b"")
    two_byte = any(ext_id > 14 for ext_id, _ in elements)
    profile = EXTENSION_PROFILE_TWO_BYTE if two_byte else EXTENSION_PROFILE_ONE_BYTE
    return replace(packet, extension_profile=profile, extensions=elements, extension_data=b"")
