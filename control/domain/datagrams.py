"""WebTransport datagrams as pure rules: why one is dropped, which are stale, who may send a whiteboard
preview and who receives it (docs/signaling.md, "Datagrams").

A datagram may be lost, duplicated or reordered, so nothing that must be kept or ordered travels as one:
a remote-control pointer move and the in-progress stroke of a whiteboard preview do, and both are
"latest wins". Each datagram a client sends carries `n`, a number that grows over its session; one
not above the last accepted of its type is stale. What is refused is never answered (nothing answers a
datagram): it is dropped and counted by `DropReason`.

No I/O and no clock (`now` is passed in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from control.domain.meeting_state import Code, MeetingState, Ok, Refused
from control.domain.rates import rate_refusal
from control.domain.roles import Capability
from control.domain.whiteboard import OpKind, check_whiteboard

MAX_DATAGRAM = 1200
"""The most bytes of one datagram, either way: what fits one QUIC packet on any path."""
PREVIEW_RATE = 30
"""Whiteboard preview datagrams per person per second (a moving window of one second)."""
MAX_PREVIEW_POINTS = 80
"""Points of one preview: a client sends the stroke so far thinned to this many (integers fit 1,200 bytes)."""


class DropReason(StrEnum):
    """Why a datagram was dropped: the `reason` label of `podium_webtransport_datagrams_dropped_total`."""

    MALFORMED = "malformed"
    """Not a JSON object of a datagram type with its fields (or it carries a `ref`)."""
    RATE_LIMITED = "rate_limited"
    """Over the rate of its kind (remote-control events, previews)."""
    NOT_PERMITTED = "not_permitted"
    """The sender may not send it: no consented control session of theirs, no whiteboard right, waiting."""
    STALE = "stale"
    """Its `n` is not above the last accepted of its type from the session: late or duplicated."""
    TOO_BIG = "too_big"
    """Over MAX_DATAGRAM bytes (coming in, or what the server would relay)."""
    UNKNOWN_SESSION = "unknown_session"
    """For no joined signaling session: an unknown WebTransport session, or one that has not joined."""


def drop_reason(refusal: Refused) -> DropReason:
    """The drop reason of a refusal of the rules a datagram goes through (those of its stream frame)."""
    return DropReason.RATE_LIMITED if refusal.code is Code.RATE_LIMITED else DropReason.NOT_PERMITTED


@dataclass
class LastNumbers:
    """The last `n` accepted per datagram type over one session."""

    last: dict[str, int] = field(default_factory=dict)

    def admit(self, kind: str, n: int) -> bool:
        """Whether `n` is fresh for `kind` (then it becomes the last); False: stale."""
        if n <= self.last.get(kind, 0):
            return False
        self.last[kind] = n
        return True


def check_preview(state: MeetingState, participant_id: str) -> Ok | Refused:
    """Who may send a whiteboard preview: who may draw a stroke (admitted, holding `whiteboard`)."""
    return check_whiteboard(state, participant_id, OpKind.STROKE)


def receives_preview(state: MeetingState, participant_id: str) -> bool:
    """Whether a participant is sent others' previews: admitted and holding `whiteboard` (those without
    it see the committed strokes only)."""
    p = state.get(participant_id)
    return not state.ended and p is not None and p.admitted and p.holds(Capability.WHITEBOARD)


def preview_recipients(state: MeetingState, sender: str) -> tuple[str, ...]:
    """Everyone but the sender who receives previews, in the meeting's order."""
    return tuple(p.id for p in state.participants if p.id != sender and receives_preview(state, p.id))


def preview_rate_refusal(recent: Sequence[float], now: float) -> Refused | None:
    """`rate_limited` when PREVIEW_RATE previews of the person were accepted within the last second."""
    return rate_refusal(recent, now, PREVIEW_RATE, "whiteboard previews")
