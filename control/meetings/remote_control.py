"""Remote control of a participant's shared screen (control.domain.consent): a moderator asks, the
participant consents in their client, the moderator's input events are relayed to that client in
order (a sequence number per session) and at most `CONTROL_RATE` a second, and either side ends it.

The participant's client shows the events as a remote pointer; a native helper on their computer
may act on them: it attaches to the session's event stream (`/signaling/v1/remote-input`, with the
`helper_token` of `control-started`; control.remote_input). A browser page cannot inject input into
other programs; only such a helper, installed and started by the person, can.

Sessions are held in memory (a control-plane restart ends them: the participant's client drops its
pointer when its socket closes). Nothing waits between a check and its change, so the meeting's lock
is not needed. Requests, answers and ends are audited, each end with the count of events relayed.
"""

from __future__ import annotations

import collections
import logging
import secrets
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace

from control.domain import consent
from control.domain.consent import CONTROL_RATE, ControlSession, Phase
from control.domain.meeting_state import Refused
from control.domain.rates import rate_refusal
from control.meetings import audit_trail
from control.meetings.consent_wire import InputEvent
from control.meetings.errors import refused
from control.meetings.live import LiveMeeting, Send
from control.meetings.observers import MeetingInfo, MeetingObserver
from control.meetings.tool_frames import ControlDeclined, ControlEnded, ControlInput, ControlRequested, ControlStarted
from control.services.context import Context

log = logging.getLogger("podium.meetings")


class RemoteControl(MeetingObserver):
    """Every live meeting's remote-control sessions (an observer: sessions end when their people leave
    or the screen stops being shared)."""

    def __init__(
        self,
        context: Callable[[], AbstractAsyncContextManager[Context]],
        meetings: Callable[[str], LiveMeeting | None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.context = context
        self.meetings = meetings
        self.clock = clock
        self._sessions: dict[str, dict[str, ControlSession]] = {}
        """meeting id → session id → session."""
        self._recent: dict[str, collections.deque[float]] = {}
        self._relayed: dict[str, int] = {}
        self._helper_tokens: dict[str, tuple[str, str]] = {}
        """helper token → (meeting id, session id)."""
        self._helpers: dict[str, list[Send]] = {}
        """session id → the native helpers attached to its event stream."""

    def _of(self, live: LiveMeeting) -> dict[str, ControlSession]:
        return self._sessions.setdefault(live.id, {})

    async def request(self, live: LiveMeeting, pid: str, target: str) -> str:
        sessions = self._of(live)
        allowed = consent.check_control_request(live.state, sessions.values(), pid, target)
        if isinstance(allowed, Refused):
            raise refused(allowed)
        sid = secrets.token_hex(8)
        sessions[sid] = ControlSession(sid, pid, target)
        live.send(target, ControlRequested(session_id=sid, moderator_id=pid).wire())
        await audit_trail.record(
            self.context, live, pid, "remote_control.requested", {"target": target, "session": sid}
        )
        return sid

    async def answer(self, live: LiveMeeting, pid: str, sid: str, allow: bool) -> None:
        sessions = self._of(live)
        answered = consent.answer_control(sessions.get(sid), pid, allow)
        if isinstance(answered, Refused):
            raise refused(answered)
        moderator = sessions[sid].controller
        if answered is None:
            del sessions[sid]
            live.send(moderator, ControlDeclined(session_id=sid, participant_id=pid).wire())
            await audit_trail.record(self.context, live, pid, "remote_control.declined", {"session": sid})
            return
        sessions[sid] = answered
        token = secrets.token_urlsafe(24)
        self._helper_tokens[token] = (live.id, sid)
        started = ControlStarted(session_id=sid, controller_id=moderator, target_id=pid)
        live.send(moderator, started.wire())
        live.send(pid, started.model_copy(update={"helper_token": token}).wire())
        await audit_trail.record(self.context, live, pid, "remote_control.started", {"session": sid, "by": moderator})

    async def event(self, live: LiveMeeting, pid: str, sid: str, event: InputEvent, *, datagram: bool = False) -> int:
        """Relay one input event to the controlled participant (`control-input`); returns its seq. An
        event that came as a datagram goes on as one where the participant's connection has them
        (WebTransport; a late one is dropped by its seq there), else as a frame."""
        sessions = self._of(live)
        session = sessions.get(sid)
        if session is not None and (reason := consent.control_lapse(live.state, session)) is not None:
            await self._end(live, sid, None, reason)
            session = None
        allowed = consent.check_control_event(session, pid)
        if isinstance(allowed, Refused):
            raise refused(allowed)
        assert session is not None
        recent = self._recent.setdefault(sid, collections.deque(maxlen=CONTROL_RATE))
        now = self.clock()
        limited = rate_refusal(recent, now, CONTROL_RATE, "remote-control events")
        if limited is not None:
            raise refused(limited)
        recent.append(now)
        seq = session.next_seq
        sessions[sid] = replace(session, next_seq=seq + 1)
        self._relayed[sid] = seq
        frame = ControlInput(session_id=sid, seq=seq, event=event.model_dump(exclude_defaults=True)).wire()
        if datagram:
            live.send_datagram(session.target, frame)
        else:
            live.send(session.target, frame)
        for send in self._helpers.get(sid, []):
            send(frame)
        return seq

    async def end(self, live: LiveMeeting, pid: str, sid: str) -> None:
        allowed = consent.may_end(self._of(live).get(sid), pid)
        if isinstance(allowed, Refused):
            raise refused(allowed)
        await self._end(live, sid, pid, "ended")

    async def _end(self, live: LiveMeeting, sid: str, by: str | None, reason: str) -> None:
        session = self._of(live).pop(sid, None)
        if session is None:
            return
        events = self._relayed.pop(sid, 0)
        self._recent.pop(sid, None)
        for token in [t for t, (_, s) in self._helper_tokens.items() if s == sid]:
            del self._helper_tokens[token]
        frame = ControlEnded(session_id=sid, by=by, reason=reason, events=events).wire()
        for send in self._helpers.pop(sid, []):
            send(frame)
        for pid in (session.controller, session.target):
            live.send(pid, frame)
        details = {"session": sid, "reason": reason, "events": events, "phase": str(session.phase)}
        await audit_trail.record(self.context, live, by or session.target, "remote_control.ended", details)

    def attach_helper(self, token: str, send: Send) -> tuple[str, str] | None:
        """A native helper's stream: (meeting id, session id) of an active session, or None."""
        found = self._helper_tokens.get(token)
        if found is None:
            return None
        meeting_id, sid = found
        session = self._sessions.get(meeting_id, {}).get(sid)
        if session is None or session.phase is not Phase.ACTIVE:
            return None
        self._helpers.setdefault(sid, []).append(send)
        return found

    def detach_helper(self, sid: str, send: Send) -> None:
        helpers = self._helpers.get(sid, [])
        if send in helpers:
            helpers.remove(send)

    async def _lapses(self, meeting_id: str) -> None:
        live = self.meetings(meeting_id)
        sessions = self._sessions.get(meeting_id, {})
        for sid, session in list(sessions.items()):
            reason = consent.control_lapse(live.state, session) if live is not None else "left"
            if reason is not None and live is not None:
                await self._end(live, sid, None, reason)
            elif live is None:
                sessions.pop(sid, None)

    # the meeting's changes that may end a session

    async def source_changed(self, meeting: MeetingInfo, participant_id: str, source: str, on: bool) -> None:
        await self._lapses(meeting.meeting_id)

    async def participant_left(self, meeting: MeetingInfo, participant_id: str, person: str, reason: str) -> None:
        await self._lapses(meeting.meeting_id)

    async def participant_waiting(
        self, meeting: MeetingInfo, participant_id: str, person: str | None = None, name: str = ""
    ) -> None:
        await self._lapses(meeting.meeting_id)

    async def role_changed(self, meeting: MeetingInfo, participant_id: str, role: str) -> None:
        await self._lapses(meeting.meeting_id)

    async def meeting_ended(self, meeting: MeetingInfo, reason: str) -> None:
        for sid in self._sessions.pop(meeting.meeting_id, {}):
            ended = ControlEnded(session_id=sid, by=None, reason="meeting_ended", events=self._relayed.pop(sid, 0))
            self._recent.pop(sid, None)
            for send in self._helpers.pop(sid, []):
                send(ended.wire())
        self._helper_tokens = {t: v for t, v in self._helper_tokens.items() if v[0] != meeting.meeting_id}
