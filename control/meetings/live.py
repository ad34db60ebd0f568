"""A live meeting as the service holds it, and who is connected to it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from control.domain.meeting_state import MeetingState, Participant, listed
from control.domain.pending_views import PendingViews
from control.domain.roles import Capability, Role, Source
from control.meetings.media import Media
from control.meetings.media_records import Peer
from control.meetings.observers import MeetingInfo
from control.meetings.visibility import NOBODY, Viewer

Send = Callable[[dict[str, Any]], None]
"""Queue one frame to a participant's socket (never blocks)."""
Close = Callable[[int, str], Awaitable[None]]


@dataclass
class Link:
    """A participant's signaling connection, as the service sees it."""

    send: Send
    close: Close
    datagram: Callable[[dict[str, Any]], bool] | None = None
    """Send a frame as one datagram (False where it cannot go); None: the connection has no datagrams
    (a WebSocket)."""


@dataclass
class Identity:
    """Who presents a token at join."""

    person: str
    name: str
    registered: bool
    company_id: str
    user_id: str | None = None
    room_role: Role | None = None
    """A registered user's rights in the room: their access right's role, or organizer for holders of
    Administrate rooms (control.domain.rooms.rights_in_room); None for guests."""
    rights: frozenset[Capability] | None = None
    """A guest's invitation rights."""
    guest_session: str | None = None
    names_visible: bool = False
    """Holds Show all usernames (never a guest): sees the names of others."""


@dataclass(eq=False)
class LiveMeeting:
    id: str
    room_id: str
    company_id: str
    state: MeetingState
    """The state the engine enforces: replaced only by the commit pipeline, once the worker acked."""
    media: Media
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    links: dict[str, Link] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    users: dict[str, str | None] = field(default_factory=dict)
    guest_sessions: dict[str, str] = field(default_factory=dict)
    viewers: dict[str, Viewer] = field(default_factory=dict)
    """participant id → what they may see of others (control.meetings.visibility)."""
    numbers: dict[str, int] = field(default_factory=dict)
    """participant id → n of the label "Participant <n>" shown instead of a hidden name (arrival order)."""
    last_waiting: Any = None
    stranded: bool = False
    """Its engine worker was lost and it has not moved yet (control.meetings.failover): nothing is
    sent to the worker its media names (a restarted worker of the same id holds none of it)."""
    republish: dict[str, set[Source]] = field(default_factory=dict)
    """After a move to another worker: the sources each participant published before, whose
    on/off state their next `publish` keeps (it neither turns them on nor honours `muted`)."""
    pending_views: dict[str, PendingViews] = field(default_factory=dict)
    """participant id → its `view`s that wait for their consumer, or for an engine that takes them
    (control.domain.pending_views): applied after a later change (Publishing.apply_pending)."""
    saved_peers: dict[str, Peer] | None = None
    """The media records' peers as last written to the database (control.meetings.durable): a
    change rewrites only the peers that are not these very objects. None: nothing written yet."""
    restoring: bool = False
    """Restored after a control-plane restart and waiting for its worker: to be reconciled with
    the table the worker still holds, or moved when the worker is a new process or stays away."""
    recording: Any = None
    """The running recording (control.meetings.recordings.ActiveRecording), None when not recorded."""
    interrupted_recording: dict[str, Any] | None = None
    """Restored: the recording the previous process stopped when it shut down (its document)."""
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the meeting can take changes (at once, unless it is restoring)."""

    def __post_init__(self) -> None:
        if not self.restoring:
            self.ready.set()

    def info(self) -> MeetingInfo:
        return MeetingInfo(self.id, self.room_id, self.company_id)

    def enter(self, pid: str, identity: Identity, link: Link) -> None:
        """Connect an arrival (once the engine accepted their join)."""
        self.links[pid] = link
        self.names[pid] = identity.name
        self.users[pid] = identity.user_id
        self.viewers[pid] = Viewer(identity.names_visible, identity.person)
        self.numbers[pid] = max(self.numbers.values(), default=0) + 1
        if identity.guest_session:
            self.guest_sessions[pid] = identity.guest_session

    def reattach(self, pid: str, link: Link, identity: Identity) -> None:
        """Connect a resumed participant's new socket (name, number and view stay theirs; a guest may
        come with a new guest session of the same invitation)."""
        self.links[pid] = link
        if identity.guest_session:
            self.guest_sessions[pid] = identity.guest_session

    def viewer(self, pid: str) -> Viewer:
        return self.viewers.get(pid, NOBODY)

    # -- telling clients --

    def send(self, pid: str, frame: dict[str, Any]) -> None:
        link = self.links.get(pid)
        if link is not None:
            link.send(frame)

    def send_datagram(self, pid: str, frame: dict[str, Any], *, fallback: bool = True) -> None:
        """A frame that may be lost or reordered: as a datagram where the participant's connection has
        them (WebTransport), else (no datagrams, or a client that takes none) as a frame with
        `fallback`, or not at all."""
        link = self.links.get(pid)
        if link is None:
            return
        sent = link.datagram is not None and link.datagram(frame)
        if not sent and fallback:
            link.send(frame)

    def broadcast(self, frame: dict[str, Any], *, exclude: str | None = None, also: tuple[str, ...] = ()) -> None:
        """To everyone admitted (and `also`)."""
        for pid in {p.id for p in self.state.admitted()} | set(also):
            if pid != exclude:
                self.send(pid, frame)

    def broadcast_listed(
        self, subject: Participant, build: Callable[[Viewer], dict[str, Any]], *, exclude: str | None = None
    ) -> None:
        """`broadcast_each` of a frame about `subject`, to those who see them listed (hidden people:
        moderators only, control.domain.meeting_state.listed)."""
        for p in self.state.admitted():
            if p.id != exclude and p.id in self.links and listed(subject, p):
                self.send(p.id, build(self.viewer(p.id)))

    def broadcast_each(self, build: Callable[[Viewer], dict[str, Any]], *, exclude: str | None = None) -> None:
        """A frame that names people, built for each admitted recipient (rule "Show all usernames")."""
        for pid in {p.id for p in self.state.admitted()}:
            if pid != exclude and pid in self.links:
                self.send(pid, build(self.viewer(pid)))
