"""Meetings: the live meeting registry, the service executing the meeting policy, and media
reconciliation against the engine (see service.py)."""

from control.meetings.events import MeetingEvents, MeetingInfo
from control.meetings.service import Link, LiveMeeting, MeetingError, MeetingService

__all__ = ["Link", "LiveMeeting", "MeetingError", "MeetingEvents", "MeetingInfo", "MeetingService"]
