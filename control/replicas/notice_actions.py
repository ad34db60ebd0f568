"""Acting on the notices replicas send each other (control.replicas.notices) on the meetings this
replica runs."""

from __future__ import annotations

import logging

from control.meetings import closing
from control.meetings.service import MeetingService
from control.replicas.notices import CHANNEL, Notice, parse
from control.services import invitations

log = logging.getLogger("podium.replicas")


def received(service: MeetingService, text: str) -> None:
    """A notice arrived: act on the meetings this replica runs."""
    notice = parse(text)
    if notice is None:
        log.warning("ignored a malformed notice on %s: %.80r", CHANNEL, text)
        return
    kind, subject = notice
    if kind is Notice.END_COMPANY:
        service.spawn(closing.end_company_meetings(service, subject))
    elif kind is Notice.END_ROOM:
        service.spawn(closing.end_room_meetings(service, subject))
    else:
        service.spawn(invitations.disconnect_guest(service, subject))
