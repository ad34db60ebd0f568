"""Tables of the control plane, one module per concept over a shared base (`base`). Every
tenant-owned row carries `company_id`.

Importing this package imports every model, so `Base.metadata` holds every table (the migrations
and their autogenerate check rely on it). A model module imports only `base`, never another model.
"""

from control.store.models.addin import AddIn
from control.store.models.api_key import ApiKey
from control.store.models.attendance import AttendanceEvent
from control.store.models.audit import AuditEvent
from control.store.models.auth_session import AuthSession
from control.store.models.base import Base
from control.store.models.chat import ChatMessage
from control.store.models.company import Company
from control.store.models.department import Department
from control.store.models.group_link import GroupLink
from control.store.models.instance import InstanceSetting
from control.store.models.invitation import GuestInvitation, GuestSession
from control.store.models.live_meeting import LiveMeetingRow, LivePeerRow
from control.store.models.meeting import Meeting
from control.store.models.meeting_lease import MeetingLease
from control.store.models.removal import RoomRemoval
from control.store.models.room import Room, RoomAccess
from control.store.models.shared_file import SharedFile
from control.store.models.user import User, UserPermission
from control.store.models.webhook_delivery import WebhookDelivery
from control.store.models.whiteboard import WhiteboardOpRow

__all__ = [
    "AddIn",
    "ApiKey",
    "AttendanceEvent",
    "AuditEvent",
    "AuthSession",
    "Base",
    "ChatMessage",
    "Company",
    "Department",
    "GroupLink",
    "GuestInvitation",
    "GuestSession",
    "InstanceSetting",
    "LiveMeetingRow",
    "LivePeerRow",
    "Meeting",
    "MeetingLease",
    "Room",
    "RoomAccess",
    "RoomRemoval",
    "SharedFile",
    "User",
    "UserPermission",
    "WhiteboardOpRow",
    "WebhookDelivery",
]
