"""Attendance of meetings: the recorder the meeting service feeds (through `AttendanceObserver`), and
the report (JSON and CSV) with each person's joins and leaves, total time, and time with microphone,
camera and screen share on.

The computation is pure (`control.domain.attendance`); this module records the raw events (through
the repository `control.store.repositories.attendance`, so that every report can be rebuilt) and
renders reports.

Interface for the meeting service
---------------------------------

    recorder = AttendanceRecorder(ctx.session, company_id)
    await recorder.record(meeting_id, person, name, EventKind.JOINED, at, participant=participant_id)
    await recorder.record(meeting_id, person, "", EventKind.SOURCE_ON, at, participant=participant_id,
                          source=Source.MICROPHONE)
    await recorder.record(meeting_id, person, "", EventKind.ROLE, at, participant=participant_id,
                          role=Role.MODERATOR)
    ...                                         # then commit, with the state change it describes
    await recorder.report(meeting_id, until=…)  # Report; report_json(r) / report_csv(r) render it

`record` only adds and flushes: the caller commits it in the same transaction as the meeting state
it describes (like `control.services.context.record` for the audit log). Events to record, from the
meeting service's decisions (`control.domain.moderation`):

| happening                                    | event                                   |
| -------------------------------------------- | --------------------------------------- |
| a connection enters the meeting              | JOINED, then ROLE with its role         |
| a connection enters the waiting room         | WAITING                                 |
| WaitingChanged(waiting=False) / (True)       | ADMITTED / WAITING                      |
| SourceChanged(on=True) / (on=False)          | SOURCE_ON / SOURCE_OFF with the source  |
| RoleChanged, SuccessorChosen                 | ROLE with the new role                  |
| leave, Disconnect, removal, MeetingEnded     | LEFT (for every connection on end)      |

`participant` is the participant id (one person may have several); `person` the person key (user
id, or a guest's invitee key); `name` the display name (empty: unchanged). Open intervals are closed
at the meeting's end (meetings.ended_at), or at the moment of the request while it runs.
"""

import csv
import io
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from control.domain import attendance as tracking
from control.domain.attendance import REPORTED_MEDIA, Event, EventKind, PersonAttendance, Presence
from control.domain.meeting_state import USER_PREFIX
from control.domain.permissions import Permission
from control.domain.roles import Role, Source
from control.errors import Forbidden, NotFound
from control.meetings.observers import MeetingObserver
from control.services.context import Context
from control.store.models import AttendanceEvent, Meeting
from control.store.repositories.attendance import AttendanceEvents
from control.store.repositories.meetings import MeetingStore
from control.store.repositories.rooms import Rooms
from control.types import Principal

log = logging.getLogger("podium.attendance")

__all__ = [
    "CSV_COLUMNS",
    "AttendanceObserver",
    "AttendanceRecorder",
    "EventKind",
    "PersonAttendance",
    "Presence",
    "Report",
    "may_report",
    "meeting_for",
    "report_csv",
    "report_for",
    "report_json",
    "user_person_keys",
]


@dataclass(frozen=True)
class Report:
    """The attendance of one meeting up to `until`."""

    meeting_id: str
    started_at: datetime | None
    ended_at: datetime | None
    until: datetime
    """The meeting's end, or the moment the report was made while it runs."""
    people: list[PersonAttendance]
    """Everyone who joined or waited, in order of first appearance."""
    present: list[Presence]
    """The live list at `until` (empty once the meeting ended)."""


class AttendanceRecorder:
    """Attendance events of one company's meetings (tenant-scoped like the repositories)."""

    def __init__(self, session: AsyncSession, company_id: str):
        self.rows = AttendanceEvents(session, company_id)

    async def record(
        self,
        meeting_id: str,
        person: str,
        name: str,
        event: EventKind,
        at: datetime,
        *,
        participant: str = "",
        source: Source | None = None,
        role: Role | None = None,
    ) -> None:
        """Append one event (flushed, not committed)."""
        if at.tzinfo is None:
            raise ValueError("attendance times must be aware (UTC)")
        if (event in (EventKind.SOURCE_ON, EventKind.SOURCE_OFF)) != (source is not None):
            raise ValueError(f"{event} {'needs' if source is None else 'takes no'} source")
        if (event is EventKind.ROLE) != (role is not None):
            raise ValueError(f"{event} {'needs' if role is None else 'takes no'} role")
        detail = source.value if source is not None else role.value if role is not None else None
        await self.rows.add(
            AttendanceEvent(
                meeting_id=meeting_id,
                at=at,
                person=person,
                participant=participant,
                name=name[:200],
                kind=event.value,
                detail=detail,
            )
        )

    async def identity(self, meeting_id: str, participant: str) -> tuple[str, str] | None:
        """(person key, latest display name) of a participant id of the meeting, or None if never seen."""
        rows = await self.rows.names_of(meeting_id, participant)
        if not rows:
            return None
        names = [name for _, name in rows if name]
        return rows[-1][0], names[-1] if names else ""

    async def events(self, meeting_id: str) -> list[Event]:
        """The meeting's events in the order they were recorded."""
        return [_event(row) for row in await self.rows.of_meeting(meeting_id)]

    async def report(
        self, meeting_id: str, *, until: datetime, started_at: datetime | None = None, ended_at: datetime | None = None
    ) -> Report:
        tracker = tracking.fold(await self.events(meeting_id), until)
        people = [tracker.attendance(person, until) for person in tracker.persons()]
        present = tracker.present() if ended_at is None else []
        return Report(meeting_id, started_at, ended_at, until, people, present)

    async def took_part(self, meeting_id: str, *persons: str) -> bool:
        """Whether the person (under any of the keys) was ever in the meeting or its waiting room."""
        return await self.rows.any_of(meeting_id, persons)

    async def moderated(self, meeting_id: str, *persons: str) -> bool:
        """Whether the person (under any of the keys) held the organizer or moderator role in the meeting."""
        return await self.rows.any_of(
            meeting_id, persons, kind=EventKind.ROLE.value, details=[Role.ORGANIZER.value, Role.MODERATOR.value]
        )


def _event(row: AttendanceEvent) -> Event:
    kind = EventKind(row.kind)
    source = Source(row.detail) if kind in (EventKind.SOURCE_ON, EventKind.SOURCE_OFF) and row.detail else None
    role = Role(row.detail) if kind is EventKind.ROLE and row.detail else None
    return Event(
        at=row.at, person=row.person, kind=kind, participant=row.participant, name=row.name, source=source, role=role
    )


# --- access ----------------------------------------------------------------------------------


def user_person_keys(user_id: str) -> tuple[str, ...]:
    """The person keys that name a registered user in attendance and chat rows."""
    return (USER_PREFIX + user_id, user_id)


async def meeting_for(ctx: Context, principal: Principal, meeting_id: str) -> Meeting:
    """The meeting, in the caller's company; any other is not found."""
    meeting = await MeetingStore(ctx.session).meeting_of_company(principal.company_id, meeting_id)
    if meeting is None:
        raise NotFound(f"meeting {meeting_id} not found")
    return meeting


async def may_report(ctx: Context, principal: Principal, meeting: Meeting) -> bool:
    """Attendance reports are for holders of Administrate rooms, and for the meeting's organizers and
    moderators: whoever opened it, held either role in it, or holds either as default role in its room."""
    if principal.holds(Permission.ADMINISTRATE_ROOMS) or meeting.opened_by == principal.user_id:
        return True
    if await AttendanceRecorder(ctx.session, meeting.company_id).moderated(
        meeting.id, *user_person_keys(principal.user_id)
    ):
        return True
    role = await Rooms(ctx.session, meeting.company_id).role(meeting.room_id, principal.user_id)
    return role is not None and role.moderates


async def report_for(ctx: Context, principal: Principal, meeting_id: str) -> Report:
    """The meeting's attendance report, for a caller allowed to see it (see `may_report`)."""
    meeting = await meeting_for(ctx, principal, meeting_id)
    if not await may_report(ctx, principal, meeting):
        raise Forbidden(
            "attendance reports require the permission 'Administrate rooms', or being an organizer or "
            "moderator of the meeting",
            code="permission_required",
        )
    until = meeting.ended_at or ctx.now()
    return await AttendanceRecorder(ctx.session, meeting.company_id).report(
        meeting.id, until=until, started_at=meeting.started_at, ended_at=meeting.ended_at
    )


# --- rendering -------------------------------------------------------------------------------


def iso(at: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, to the microsecond where there is one."""
    if at is None:
        return None
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def seconds(span: timedelta) -> float:
    """Seconds, to the millisecond."""
    return round(span.total_seconds(), 3)


def person_json(p: PersonAttendance) -> dict[str, object]:
    return {
        "person": p.person,
        "name": p.name,
        "role": p.role.value if p.role is not None else None,
        "present": p.present,
        "sessions": [{"joined_at": iso(s.start), "left_at": iso(s.end)} for s in p.sessions],
        "total_seconds": seconds(p.total),
        "waiting_seconds": seconds(p.waiting),
        **{f"{key}_seconds": seconds(p.media[key]) for key in REPORTED_MEDIA},
    }


def presence_json(p: Presence) -> dict[str, object]:
    return {
        "person": p.person,
        "name": p.name,
        "role": p.role.value if p.role is not None else None,
        "waiting": p.waiting,
        "since": iso(p.since),
        "media": sorted(p.media),
    }


def report_json(r: Report) -> dict[str, object]:
    return {
        "meeting_id": r.meeting_id,
        "started_at": iso(r.started_at),
        "ended_at": iso(r.ended_at),
        "until": iso(r.until),
        "people": [person_json(p) for p in r.people],
        "present": [presence_json(p) for p in r.present],
    }


CSV_COLUMNS: Sequence[str] = (
    "meeting_id",
    "person",
    "name",
    "role",
    "joins",
    "first_joined_at",
    "last_left_at",
    "present",
    "total_seconds",
    "waiting_seconds",
    "microphone_seconds",
    "camera_seconds",
    "screen_share_seconds",
    "sessions",
)
"""One row per person. `sessions`: each stay as ISO 8601 interval start/end (end empty while present),
separated by spaces. Times are UTC; durations are seconds."""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A leading =, +, -, @ (or a tab or carriage return) makes a formula of a spreadsheet cell.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def report_csv(r: Report) -> str:
    """The header, then one line per person (`CSV_COLUMNS`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for p in r.people:
        row = {
            "meeting_id": r.meeting_id,
            "person": p.person,
            "name": p.name,
            "role": p.role.value if p.role is not None else None,
            "joins": len(p.sessions),
            "first_joined_at": iso(p.sessions[0].start) if p.sessions else None,
            "last_left_at": iso(p.sessions[-1].end) if p.sessions else None,
            "present": p.present,
            "total_seconds": seconds(p.total),
            "waiting_seconds": seconds(p.waiting),
            **{f"{key}_seconds": seconds(p.media[key]) for key in REPORTED_MEDIA},
            "sessions": " ".join(f"{iso(s.start)}/{iso(s.end) or ''}" for s in p.sessions),
        }
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()


# --- the meeting service's observer ----------------------------------------------------------


class AttendanceObserver(MeetingObserver):
    """Records attendance from the meeting service's hooks (`MeetingService.add_observer`, see
    control.meetings.observers), each in its own transaction, timed by the context's clock.

    `participant_joined` is entering the meeting itself, `participant_waiting` (with person and name on
    arrival) entering the waiting room; `participant_admitted` and `role_changed` follow the changes."""

    def __init__(self, context: Callable[[], AbstractAsyncContextManager[Context]]):
        self.context = context
        """Opens a Context (app.state.context)."""

    async def _record(
        self,
        meeting: Any,
        participant: str,
        event: EventKind,
        *,
        person: str | None = None,
        name: str = "",
        source: Source | None = None,
        role: Role | None = None,
    ) -> None:
        async with self.context() as ctx:
            recorder = AttendanceRecorder(ctx.session, meeting.company_id)
            if person is None:
                known = await recorder.identity(meeting.meeting_id, participant)
                person = known[0] if known is not None else participant
            async with self._writing(ctx, meeting):
                await recorder.record(
                    meeting.meeting_id,
                    person,
                    name,
                    event,
                    ctx.now(),
                    participant=participant,
                    source=source,
                    role=role,
                )

    @staticmethod
    @asynccontextmanager
    async def _writing(ctx: Context, meeting: Any) -> AsyncIterator[None]:
        """Records, then commits; a meeting whose records went with its deleted room (ended through
        another replica after the deletion: control.meetings.closing) has nothing to record into."""
        try:
            yield
            await ctx.session.commit()
        except IntegrityError:
            await ctx.session.rollback()
            if await ctx.session.get(Meeting, meeting.meeting_id) is not None:
                raise
            log.info("attendance of meeting %s not recorded: its room was deleted", meeting.meeting_id)

    async def participant_joined(self, meeting: Any, participant_id: str, person: str, name: str) -> None:
        await self._record(meeting, participant_id, EventKind.JOINED, person=person, name=name)

    async def participant_waiting(
        self, meeting: Any, participant_id: str, person: str | None = None, name: str = ""
    ) -> None:
        await self._record(meeting, participant_id, EventKind.WAITING, person=person, name=name)

    async def participant_admitted(self, meeting: Any, participant_id: str) -> None:
        await self._record(meeting, participant_id, EventKind.ADMITTED)

    async def role_changed(self, meeting: Any, participant_id: str, role: str) -> None:
        await self._record(meeting, participant_id, EventKind.ROLE, role=Role(role))

    async def participant_left(self, meeting: Any, participant_id: str, person: str, reason: str) -> None:
        await self._record(meeting, participant_id, EventKind.LEFT, person=person)

    async def source_changed(self, meeting: Any, participant_id: str, source: str, on: bool) -> None:
        await self._record(
            meeting, participant_id, EventKind.SOURCE_ON if on else EventKind.SOURCE_OFF, source=Source(source)
        )

    async def recording_changed(self, meeting: Any, participant_id: str, recording: bool) -> None:
        await self._record(meeting, participant_id, EventKind.RECORDING_ON if recording else EventKind.RECORDING_OFF)

    async def meeting_ended(self, meeting: Any, reason: str) -> None:
        """Everyone still present leaves now."""
        async with self.context() as ctx:
            recorder = AttendanceRecorder(ctx.session, meeting.company_id)
            now = ctx.now()
            tracker = tracking.Tracker()
            for event in sorted(await recorder.events(meeting.meeting_id), key=lambda e: e.at):
                tracker.apply(event)
            async with self._writing(ctx, meeting):
                for participant, person in tracker.connections():
                    await recorder.record(meeting.meeting_id, person, "", EventKind.LEFT, now, participant=participant)
