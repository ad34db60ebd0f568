"""Requests for a participant's settings: a moderator asks, the participant's client asks them for
consent and answers; the answer reaches the asking moderator only (control.domain.consent).

Nothing here waits between a check and the change it allows, so the meeting's lock is not needed:
requests are held in memory (a control-plane restart drops the pending ones; the moderator asks
again), and every request and answer is audited.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from control.domain import consent
from control.domain.consent import SettingsRequest
from control.domain.meeting_state import Code, Refused
from control.meetings import audit_trail
from control.meetings.consent_wire import Proposal, Report
from control.meetings.errors import refused
from control.meetings.live import LiveMeeting
from control.meetings.observers import MeetingInfo, MeetingObserver
from control.meetings.tool_frames import SettingsDeclined, SettingsReport, SettingsRequested
from control.services.context import Context


class SettingsRequests(MeetingObserver):
    """Pending settings requests of every live meeting."""

    def __init__(self, context: Callable[[], AbstractAsyncContextManager[Context]]) -> None:
        self.context = context
        self._pending: dict[str, dict[str, SettingsRequest]] = {}
        """meeting id → request id → request."""

    def _of(self, live: LiveMeeting) -> dict[str, SettingsRequest]:
        pending = self._pending.setdefault(live.id, {})
        for rid, request in list(pending.items()):
            if consent.settings_request_lapses(live.state, request):
                del pending[rid]
        return pending

    async def ask(self, live: LiveMeeting, pid: str, target: str, proposal: Proposal | None) -> str:
        """Ask `target` (they get `settings-requested`); returns the request's id."""
        pending = self._of(live)
        allowed = consent.check_settings_request(live.state, pending.values(), pid, target)
        if isinstance(allowed, Refused):
            raise refused(allowed)
        rid = secrets.token_hex(8)
        pending[rid] = SettingsRequest(rid, pid, target, proposes=proposal is not None)
        propose = proposal.model_dump(exclude_none=True) if proposal is not None else None
        live.send(target, SettingsRequested(request_id=rid, moderator_id=pid, propose=propose).wire())
        await audit_trail.record(
            self.context, live, pid, "settings.requested", {"target": target, "request_id": rid, "propose": propose}
        )
        return rid

    async def answer(
        self, live: LiveMeeting, pid: str, rid: str, allow: bool, report: Report | None, applied: bool
    ) -> None:
        """The person's answer: with consent their report goes to the moderator (`settings-report`),
        without it only the refusal does (`settings-declined`); a report sent without consent is dropped."""
        pending = self._of(live)
        request = pending.get(rid)
        allowed = consent.check_settings_answer(request, pid)
        if isinstance(allowed, Refused):
            raise refused(allowed)
        assert request is not None
        if allow and report is None:
            raise refused(Refused(Code.MISSING_ARGUMENT, "sharing one's settings needs the report"))
        del pending[rid]
        if allow:
            assert report is not None
            frame = SettingsReport(
                request_id=rid,
                participant_id=pid,
                report=report.model_dump(exclude_none=True),
                applied=applied and request.proposes,
            ).wire()
        else:
            frame = SettingsDeclined(request_id=rid, participant_id=pid).wire()
        live.send(request.moderator, frame)
        outcome = ("applied" if applied and request.proposes else "shared") if allow else "declined"
        await audit_trail.record(
            self.context, live, pid, f"settings.{outcome}", {"moderator": request.moderator, "request_id": rid}
        )

    async def meeting_ended(self, meeting: MeetingInfo, reason: str) -> None:
        self._pending.pop(meeting.meeting_id, None)
