"""What a browser's SDP says that aiortc's does not, added to aiortc's SDP before an SFU reads it.

aiortc neither sends simulcast nor speaks transport-wide congestion control, but in this benchmark
aiortc only negotiates: the compiled sender (meeting_media.c) sends and answers the media itself. So
the SFUs are told what a browser would tell them:

- a publisher's offer: its video sends three simulcast layers by SSRC (`a=ssrc-group:SIM`, lowest
  first, each with its RTX stream in an `a=ssrc-group:FID`), as Chromium and Firefox do with SSRCs;
- a subscriber's answer: the transport-wide sequence number header extension and the `transport-cc`
  feedback the SFU offered are accepted, as Chromium accepts them.

Both SFUs read the same additions. aiortc's own local description is left as it is."""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass

URI_TRANSPORT_CC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
LAYERS = 3
LAYER_SHARES = (16, 4, 1)
"""Each layer's bitrate is the top bitrate divided by this, lowest first (a browser's 1/4-scale steps
of resolution: about 1/16, 1/4 and all of the top layer's bits)."""


@dataclass(frozen=True)
class Simulcast:
    ssrcs: tuple[int, ...]
    """The layers' SSRCs, lowest first."""


def _sections(sdp: str) -> tuple[list[str], list[list[str]]]:
    """(session lines, each m-section's lines)."""
    lines = sdp.strip("\r\n").replace("\r\n", "\n").split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("m=")]
    if not starts:
        return lines, []
    bounds = [*starts, len(lines)]
    return lines[: starts[0]], [lines[a:b] for a, b in itertools.pairwise(bounds)]


def _join(session: list[str], sections: list[list[str]]) -> str:
    return "\r\n".join(session + [line for section in sections for line in section]) + "\r\n"


def simulcast_offer(sdp: str) -> tuple[str, Simulcast]:
    """The offer with its (one) video section sending LAYERS layers by SSRC: aiortc's own SSRC becomes
    the top layer, new ones the lower layers."""
    session, sections = _sections(sdp)
    video = next(s for s in sections if s[0].startswith("m=video"))
    fid = next(line for line in video if line.startswith("a=ssrc-group:FID"))
    top, top_rtx = (int(x) for x in fid.split()[1:3])
    cname = next(line.split("cname:", 1)[1] for line in video if line.startswith(f"a=ssrc:{top} cname:"))
    taken = {top, top_rtx}
    fresh: list[int] = []
    while len(fresh) < 2 * (LAYERS - 1):
        ssrc = random.randrange(1, 1 << 32)
        if ssrc not in taken:
            taken.add(ssrc)
            fresh.append(ssrc)
    layers = [*fresh[: LAYERS - 1], top]
    rtx = [*fresh[LAYERS - 1 :], top_rtx]
    kept = [line for line in video if not line.startswith(("a=ssrc-group:", "a=ssrc:"))]
    at = next(i for i, line in enumerate(kept) if line.startswith("a=rtpmap:"))
    added = [f"a=ssrc-group:SIM {' '.join(map(str, layers))}"]
    added += [f"a=ssrc-group:FID {s} {r}" for s, r in zip(layers, rtx)]
    added += [f"a=ssrc:{s} cname:{cname}" for pair in zip(layers, rtx) for s in pair]
    video[:] = kept[:at] + added + kept[at:]
    return _join(session, sections), Simulcast(tuple(layers))


def transport_cc_id(sdp: str) -> int:
    """The id the SDP gives the transport-wide sequence number extension (0: none)."""
    found = re.search(rf"^a=extmap:(\d+)(?:/\w+)? {re.escape(URI_TRANSPORT_CC)}\s*$", sdp, re.MULTILINE)
    return int(found.group(1)) if found else 0


def accept_transport_cc(answer: str, offer: str) -> str:
    """The answer accepting, in each section, the transport-cc extension and feedback the offer's
    section of the same mid offered."""
    _, offered = _sections(offer)
    by_mid = {_mid(s): s for s in offered}
    session, sections = _sections(answer)
    for section in sections:
        source = by_mid.get(_mid(section))
        if source is None or section[0].split()[1] == "0":
            continue
        extmaps = [line for line in source if line.startswith("a=extmap:") and URI_TRANSPORT_CC in line]
        formats = {line.split()[0].split(":")[1] for line in section if line.startswith("a=rtpmap:")}
        feedback = [
            line
            for line in source
            if line.startswith("a=rtcp-fb:") and line.endswith(" transport-cc") and line.split()[0][10:] in formats
        ]
        new = [line for line in extmaps + feedback if line not in section]
        if new:
            at = next((i for i, line in enumerate(section) if line.startswith("a=rtpmap:")), len(section))
            section[at:at] = new
    return _join(session, sections)


def _mid(section: list[str]) -> str | None:
    return next((line[6:] for line in section if line.startswith("a=mid:")), None)
