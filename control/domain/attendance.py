"""Attendance as a pure fold over timestamped events: who was in a meeting, when, and with what on.

No I/O and no clock: events carry their own time, and every query takes the moment it is asked for
(`until`). `control.services.attendance` stores the events and renders reports; this module only computes.

One *connection* (a participant id) is in one of three places at a time: absent, waiting (in the
waiting room) or present (admitted into the meeting). A *person* (user id or guest key) may have
several connections at once (two devices); the person is present while any connection is, and
their times are the union over connections, never a sum.

Rules (each one tested):

- `JOINED` and `ADMITTED` put a connection in the meeting; `WAITING` puts it in the waiting room
  (arriving there, or sent back); `LEFT` takes it out of both. Time in the meeting excludes waiting.
- `SOURCE_ON`/`SOURCE_OFF` set a source's switch. A source counts only while its connection is in
  the meeting (a waiting person's visit is not meeting time), so every source interval lies inside a
  presence interval; `LEFT` turns every source off.
- Screen share is the union of the `screen` and `screen-audio` sources.
- `ROLE` records the connection's role (organizer, moderator, participant); the report keeps each
  person's highest role.
- Events that make no sense in the current place (leaving twice, a source while absent, joining
  while present) change nothing they cannot: the fold is total and never raises.
- Time never runs backwards: an event older than the last one folded counts as happening at the
  last one's time. `fold` sorts by time first (stable, so ties keep their given order); the result
  therefore does not depend on the order of events with distinct times.
- Open intervals are closed at `until`; events after `until` are ignored.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from control.domain.roles import Role, Source

ZERO = timedelta(0)


class EventKind(StrEnum):
    """What happened to one connection."""

    JOINED = "joined"
    """Entered the meeting itself (no waiting room, or a moderator rejoining)."""
    WAITING = "waiting"
    """Entered the waiting room, or was sent back to it."""
    ADMITTED = "admitted"
    """Let into the meeting from the waiting room."""
    LEFT = "left"
    """Gone: left, disconnected, removed, denied, or the meeting ended."""
    SOURCE_ON = "source_on"
    """A source (`source` names it) started to be produced."""
    SOURCE_OFF = "source_off"
    """A source stopped."""
    ROLE = "role"
    """The connection's role is now `role`."""
    RECORDING_ON = "recording_on"
    """This connection (a moderator) started recording the meeting; presence and media unchanged."""
    RECORDING_OFF = "recording_off"
    """This connection stopped the recording."""


@dataclass(frozen=True)
class Event:
    """One attendance event, as stored and as folded."""

    at: datetime
    """When (aware, UTC)."""
    person: str
    """Stable person key: user id, or the guest key of a personalized invitation."""
    kind: EventKind
    """What happened."""
    participant: str = ""
    """The connection (participant id); empty: the person has one connection, named after them."""
    name: str = ""
    """The person's display name at the time; empty: unchanged."""
    source: Source | None = None
    """For SOURCE_ON and SOURCE_OFF."""
    role: Role | None = None
    """For ROLE."""

    @property
    def connection(self) -> str:
        return self.participant or self.person


class Place(StrEnum):
    ABSENT = "absent"
    WAITING = "waiting"
    PRESENT = "present"


@dataclass(frozen=True)
class Interval:
    """[start, end): `end` None while still open."""

    start: datetime
    end: datetime | None = None

    def length(self, until: datetime) -> timedelta:
        end = self.end if self.end is not None else until
        return max(end - self.start, ZERO)


@dataclass
class _Connection:
    person: str
    place: Place = Place.ABSENT
    since: datetime | None = None
    """Start of the current stay in `place` (None while absent)."""
    sources: dict[Source, datetime] = field(default_factory=dict)
    """Sources switched on, with when."""
    presence: list[Interval] = field(default_factory=list)
    waiting: list[Interval] = field(default_factory=list)
    media: dict[Source, list[Interval]] = field(default_factory=dict)
    role: Role | None = None
    """The current role."""
    highest: Role | None = None
    """The highest role held so far."""


REPORTED_MEDIA: dict[str, frozenset[Source]] = {
    "microphone": frozenset({Source.MICROPHONE}),
    "camera": frozenset({Source.CAMERA}),
    "screen_share": frozenset({Source.SCREEN, Source.SCREEN_AUDIO}),
}
"""The media times a report gives, each the union of some sources."""


@dataclass(frozen=True)
class Presence:
    """One person in the live list."""

    person: str
    name: str
    waiting: bool
    """In the waiting room only (no connection in the meeting)."""
    since: datetime
    """Start of the current stay (in the meeting, or waiting when `waiting`)."""
    media: frozenset[str]
    """Reported media on now: keys of REPORTED_MEDIA."""
    role: Role | None


@dataclass(frozen=True)
class PersonAttendance:
    """One person's attendance over the whole meeting, up to `until`."""

    person: str
    name: str
    role: Role | None
    """The highest role they held."""
    sessions: tuple[Interval, ...]
    """Time in the meeting: sorted, non-overlapping (they may touch), the last one open if present."""
    total: timedelta
    """Sum of the sessions, waiting excluded."""
    waiting: timedelta
    """Time in the waiting room while not in the meeting."""
    media: dict[str, timedelta]
    """For each key of REPORTED_MEDIA, time with it on while in the meeting."""
    present: bool
    """In the meeting at `until`."""


def merge(intervals: Iterable[Interval], until: datetime) -> tuple[Interval, ...]:
    """The union of intervals clipped to `until`, as sorted non-overlapping intervals (touching ones
    stay apart: a leave and a rejoin at the same instant are two sessions). Empty ones are dropped,
    except one still open at `until`."""
    clipped = []
    for i in intervals:
        if i.start > until:
            continue
        end = i.end if i.end is not None and i.end <= until else None
        if end is not None and end <= i.start:
            continue
        clipped.append(Interval(i.start, end))
    clipped.sort(key=lambda i: (i.start, i.end is None, i.end or i.start))
    merged: list[Interval] = []
    for i in clipped:
        if merged:
            last = merged[-1]
            if last.end is None:
                continue  # open to `until`: covers everything after its start
            if i.start < last.end:
                end = None if i.end is None else max(last.end, i.end)
                merged[-1] = Interval(last.start, end)
                continue
        merged.append(i)
    return tuple(merged)


def total(intervals: Iterable[Interval], until: datetime) -> timedelta:
    return sum((i.length(until) for i in intervals), ZERO)


class Tracker:
    """The attendance of one meeting, folded event by event."""

    def __init__(self) -> None:
        self._connections: dict[str, _Connection] = {}
        self._names: dict[str, str] = {}
        self._order: list[str] = []
        """Persons in order of first appearance."""
        self._clock: datetime | None = None

    def apply(self, event: Event) -> None:
        at = event.at if self._clock is None else max(event.at, self._clock)
        self._clock = at
        if event.person not in self._names:
            self._names[event.person] = ""
            self._order.append(event.person)
        if event.name:
            self._names[event.person] = event.name
        c = self._connections.get(event.connection)
        if c is None:
            c = self._connections[event.connection] = _Connection(event.person)
        kind = event.kind
        if kind in (EventKind.JOINED, EventKind.ADMITTED):
            self._move(c, Place.PRESENT, at)
        elif kind is EventKind.WAITING:
            self._move(c, Place.WAITING, at)
        elif kind is EventKind.LEFT:
            self._move(c, Place.ABSENT, at)
            c.sources.clear()
        elif kind is EventKind.SOURCE_ON and event.source is not None:
            if event.source not in c.sources and c.place is not Place.ABSENT:
                c.sources[event.source] = at
        elif kind is EventKind.SOURCE_OFF and event.source is not None:
            on = c.sources.pop(event.source, None)
            if on is not None and c.place is Place.PRESENT:
                self._media(c, event.source, on, at)
        elif kind is EventKind.ROLE and event.role is not None:
            c.role = event.role
            if c.highest is None or event.role.rank > c.highest.rank:
                c.highest = event.role

    def _media(self, c: _Connection, source: Source, on: datetime, off: datetime) -> None:
        assert c.since is not None
        c.media.setdefault(source, []).append(Interval(max(on, c.since), off))

    def _move(self, c: _Connection, place: Place, at: datetime) -> None:
        if c.place is place:
            return
        if c.place is Place.PRESENT:
            for source, on in c.sources.items():
                self._media(c, source, on, at)
            c.presence.append(Interval(c.since or at, at))
        elif c.place is Place.WAITING:
            c.waiting.append(Interval(c.since or at, at))
        c.place = place
        c.since = at if place is not Place.ABSENT else None

    # queries

    def _current(self, c: _Connection) -> tuple[list[Interval], list[Interval], dict[Source, list[Interval]]]:
        """The connection's intervals, with those still running open."""
        presence, waiting = list(c.presence), list(c.waiting)
        media = {s: list(v) for s, v in c.media.items()}
        if c.place is Place.PRESENT and c.since is not None:
            presence.append(Interval(c.since))
            for source, on in c.sources.items():
                media.setdefault(source, []).append(Interval(max(on, c.since)))
        elif c.place is Place.WAITING and c.since is not None:
            waiting.append(Interval(c.since))
        return presence, waiting, media

    def connections(self) -> list[tuple[str, str]]:
        """(participant, person) of every connection in the meeting or its waiting room now."""
        return [(key, c.person) for key, c in self._connections.items() if c.place is not Place.ABSENT]

    def persons(self) -> list[str]:
        return list(self._order)

    def attendance(self, person: str, until: datetime) -> PersonAttendance:
        presence: list[Interval] = []
        waiting: list[Interval] = []
        media: dict[Source, list[Interval]] = {}
        role: Role | None = None
        for c in self._connections.values():
            if c.person != person:
                continue
            p, w, m = self._current(c)
            presence += p
            waiting += w
            for s, v in m.items():
                media.setdefault(s, []).extend(v)
            if c.highest is not None and (role is None or c.highest.rank > role.rank):
                role = c.highest
        sessions = merge(presence, until)
        # Waiting time while also in the meeting on another connection is not waiting.
        waited = merge(waiting, until)
        waiting_time = total(waited, until) - _overlap(waited, sessions, until)
        return PersonAttendance(
            person=person,
            name=self._names.get(person, ""),
            role=role,
            sessions=sessions,
            total=total(sessions, until),
            waiting=waiting_time,
            media={
                key: total(merge([i for s in sources for i in media.get(s, ())], until), until)
                for key, sources in REPORTED_MEDIA.items()
            },
            present=bool(sessions) and sessions[-1].end is None,
        )

    def present(self) -> list[Presence]:
        """Everyone in the meeting or the waiting room now, in order of arrival."""
        found = []
        for person in self._order:
            mine = [c for c in self._connections.values() if c.person == person and c.place is not Place.ABSENT]
            if not mine:
                continue
            inside = [c for c in mine if c.place is Place.PRESENT]
            here = inside or mine
            since = min(c.since for c in here if c.since is not None)
            media = frozenset(
                key for key, sources in REPORTED_MEDIA.items() for c in inside if sources & c.sources.keys()
            )
            roles = [c.role for c in mine if c.role is not None]
            found.append(
                Presence(
                    person,
                    self._names.get(person, ""),
                    waiting=not inside,
                    since=since,
                    media=media,
                    role=max(roles, key=lambda r: r.rank) if roles else None,
                )
            )
        return found


def _overlap(a: tuple[Interval, ...], b: tuple[Interval, ...], until: datetime) -> timedelta:
    """Length of the intersection of two merged interval lists."""
    found = ZERO
    for x in a:
        x_end = x.end if x.end is not None else until
        for y in b:
            y_end = y.end if y.end is not None else until
            start, end = max(x.start, y.start), min(x_end, y_end)
            if end > start:
                found += end - start
    return found


def fold(events: Iterable[Event], until: datetime) -> Tracker:
    """A tracker fed `events` up to `until`, in time order (stable for ties)."""
    tracker = Tracker()
    for event in sorted((e for e in events if e.at <= until), key=lambda e: e.at):
        tracker.apply(event)
    return tracker


def attendance(events: Iterable[Event], until: datetime) -> list[PersonAttendance]:
    """Every person's attendance, in order of first appearance."""
    tracker = fold(events, until)
    return [tracker.attendance(person, until) for person in tracker.persons()]
