"""Meeting roles, media sources and in-meeting capabilities: the vocabulary of moderation.

Pure data and total functions, no I/O. A *role* is what a person is in one running meeting
(organizer, moderator, participant); a *capability* is what they may do with their media and chat
(microphone, camera, screen share, chat, files); a *source* is one kind of producer the engine forwards
(microphone, camera, screen, screen audio — the same words as the engine's `source=` argument).

Ranking is total: ORGANIZER > MODERATOR > PARTICIPANT. The organizer is also a moderator.
"""

from enum import Enum, StrEnum


class Role(StrEnum):
    """A person's role in one running meeting."""

    ORGANIZER = "organizer"
    """The one holder of the organizer seat: a registered user with organizer rights for the room
    (else moderator rights), never whoever arrived first (`control.domain.moderation.authority`);
    also a moderator."""
    MODERATOR = "moderator"
    """A holder of moderator (or organizer) rights for the room, or appointed by a moderator; an
    appointed one may be a guest."""
    PARTICIPANT = "participant"
    """Manages nobody; controls only their own media."""

    @property
    def rank(self) -> int:
        """2 for the organizer, 1 for a moderator, 0 for a participant."""
        return _RANK[self]

    @property
    def moderates(self) -> bool:
        """Whether this role holds moderator powers (the organizer does)."""
        return self.rank >= _RANK[Role.MODERATOR]


_RANK: dict[Role, int] = {Role.ORGANIZER: 2, Role.MODERATOR: 1, Role.PARTICIPANT: 0}


def outranks(actor: Role, target: Role) -> bool:
    """Whether `actor` is strictly above `target`: the condition for acting on someone, except muting."""
    return actor.rank > target.rank


def may_hold(role: Role, *, registered: bool) -> bool:
    """Guests may be moderators or participants, never organizers."""
    return registered or role is not Role.ORGANIZER


class Capability(StrEnum):
    """A per-participant permission during a meeting, granted and revoked by moderators."""

    MICROPHONE = "microphone"
    """Produce the microphone source."""
    CAMERA = "camera"
    """Produce the camera source."""
    SCREEN_SHARE = "screen_share"
    """Produce the screen and screen-audio sources."""
    CHAT = "chat"
    """Send chat messages (to everyone or one-to-one); receiving is never restricted."""
    WHITEBOARD = "whiteboard"
    """Draw on the meeting's whiteboard (control.domain.whiteboard); seeing it is never restricted."""
    FILES = "files"
    """Share files in chat (to everyone or one-to-one); downloading what one may see is never restricted."""


ALL_CAPABILITIES: frozenset[Capability] = frozenset(Capability)


class Source(StrEnum):
    """One kind of producer; values are the engine's `source` words."""

    MICROPHONE = "microphone"
    CAMERA = "camera"
    SCREEN = "screen"
    SCREEN_AUDIO = "screen-audio"


class Kind(StrEnum):
    """Media kind of a source, as the engine names it."""

    AUDIO = "audio"
    VIDEO = "video"


REQUIRED_CAPABILITY: dict[Source, Capability] = {
    Source.MICROPHONE: Capability.MICROPHONE,
    Source.CAMERA: Capability.CAMERA,
    Source.SCREEN: Capability.SCREEN_SHARE,
    Source.SCREEN_AUDIO: Capability.SCREEN_SHARE,
}
"""The capability without which a source's producer cannot be created and its gate stays closed."""

KIND: dict[Source, Kind] = {
    Source.MICROPHONE: Kind.AUDIO,
    Source.CAMERA: Kind.VIDEO,
    Source.SCREEN: Kind.VIDEO,
    Source.SCREEN_AUDIO: Kind.AUDIO,
}

MUTABLE_BY_MODERATORS: frozenset[Source] = frozenset({Source.MICROPHONE, Source.CAMERA})
"""Sources a moderator may turn off on anyone, the organizer included ("mute")."""

VISIT_SOURCES: frozenset[Source] = frozenset({Source.MICROPHONE, Source.CAMERA})
"""Sources exchanged between a visiting moderator and the waiting person: audio and video only."""


def sources_of(capability: Capability) -> frozenset[Source]:
    """The sources a capability covers (none for chat and the whiteboard)."""
    return frozenset(s for s, c in REQUIRED_CAPABILITY.items() if c is capability)


class MuteScope(Enum):
    """What "mute all" turns off."""

    AUDIO = frozenset({Source.MICROPHONE})
    VIDEO = frozenset({Source.CAMERA})
    BOTH = frozenset({Source.MICROPHONE, Source.CAMERA})

    @property
    def sources(self) -> frozenset[Source]:
        return self.value


def default_capabilities(role: Role, *, screen_share_allowed: bool) -> frozenset[Capability]:
    """Capabilities a person starts with: moderators hold all of them; participants hold all but
    screen share, which they hold only where the room allows it."""
    if role.moderates or screen_share_allowed:
        return ALL_CAPABILITIES
    return ALL_CAPABILITIES - {Capability.SCREEN_SHARE}
