"""Guest invitation links: /rooms/{room_id}/invitations, /invitations/…

An invitation is personalized, valid only in its window, single-use and bound to the browser that
redeemed it, revocable, and carries only rights its issuer holds (control.domain.invitations)."""

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input, Name
from control.domain.roles import Capability
from control.meetings import guests
from control.services import invitations

endpoints = EndpointGroup(tag="invitations")


class RoomPath(Input):
    room_id: Id


class InvitationPath(Input):
    invitation_id: Id


class InvitationIn(Input):
    invitee_name: Name
    rights: list[Capability] = Field(default_factory=lambda: [Capability.MICROPHONE, Capability.CAMERA,
                                                              Capability.CHAT])
    not_before: datetime | None = Field(None, description="default: now")
    not_after: datetime | None = Field(None, description="default: not_before + 24 hours")


class InvitationOut(BaseModel):
    id: str
    room_id: str
    invitee_name: str
    invitee: str = Field(description="the guest's person key (what removals and bans name)")
    rights: list[Capability]
    not_before: datetime
    not_after: datetime
    redeemed: bool
    revoked: bool
    created_at: datetime


class IssuedOut(InvitationOut):
    invitation: str = Field(description="the secret the link carries; shown once")


def _display_name(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        problem = guests.display_name_problem(value)
        if problem is not None:
            raise ValueError(problem)
    return value


# The schema states what _display_name enforces (with clearer messages), so that a schema-valid
# name is accepted: some character that is not a space, and no control characters or line or
# paragraph separators.
_NAME_CHAR = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]"
_DISPLAY_NAME_PATTERN = rf"^{_NAME_CHAR}*[^\s\x00-\x1f\x7f-\x9f\u2028\u2029]{_NAME_CHAR}*$"
DisplayName = Annotated[str, Field(max_length=1024,  # a hard bound before trimming; 64 after it
                                   json_schema_extra={"maxLength": guests.MAX_DISPLAY_NAME,
                                                      "pattern": _DISPLAY_NAME_PATTERN}),
                        AfterValidator(_display_name)]


class RedeemIn(Input):
    invitation: Annotated[str, Field(min_length=1, max_length=200)]
    browser: Annotated[str, Field(min_length=16, max_length=200)] = Field(
        description="a random id the browser keeps (localStorage); the invitation binds to it")
    name: DisplayName | None = Field(None, description="the name the guest entered, shown to others (trimmed, "
                                                       "1-64 characters, no control characters); default: the "
                                                       "invitee name")


class RedeemOut(BaseModel):
    guest_token: str
    room_id: str
    invitation_id: str
    invitee_name: str
    name: str = Field(description="the name others see (subject to Show all usernames)")
    expires_in: int


def out(row) -> InvitationOut:  # type: ignore[no-untyped-def]
    return InvitationOut(id=row.id, room_id=row.room_id, invitee_name=row.invitee_name, invitee=row.invitee_key,
                         rights=[Capability(r) for r in row.rights], not_before=row.not_before,
                         not_after=row.not_after, redeemed=row.browser_hash is not None,
                         revoked=row.revoked_at is not None, created_at=row.created_at)


@endpoints.post("/rooms/{room_id}/invitations", path_model=RoomPath, body=InvitationIn, response=IssuedOut,
                status=201, errors=(403, 404))
async def issue_invitation(call: Call) -> IssuedOut:
    """Issue a personalized guest link, with rights the issuer holds in the room."""
    b: InvitationIn = call.body
    row, secret = await invitations.issue(call.ctx, call.principal, call.path.room_id, b.invitee_name,
                                          frozenset(b.rights), b.not_before, b.not_after)
    return IssuedOut(**out(row).model_dump(), invitation=secret)


class InvitationList(BaseModel):
    items: list[InvitationOut]


@endpoints.get("/rooms/{room_id}/invitations", path_model=RoomPath, response=InvitationList, errors=(403, 404))
async def list_invitations(call: Call) -> InvitationList:
    """The room's guest invitations (its organizers, moderators and room administrators)."""
    rows = await invitations.list_for_room(call.ctx, call.principal, call.path.room_id)
    return InvitationList(items=[out(r) for r in rows])


@endpoints.delete("/invitations/{invitation_id}", path_model=InvitationPath, status=204, errors=(403, 404))
async def revoke_invitation(call: Call) -> None:
    """Revoke a link (its issuer, the room's moderators, room administrators); its guest sessions end."""
    await invitations.revoke(call.ctx, call.principal, call.path.invitation_id)
    await invitations.disconnect_guest(call.request.app.state.meetings, call.path.invitation_id)


@endpoints.post("/invitation-redemptions", body=RedeemIn, response=RedeemOut, authenticated=False,
                errors=(403, 404))
async def redeem_invitation(call: Call) -> RedeemOut:
    """Open a link from a browser: a guest token for signaling (refused outside the window, from a
    second browser, once revoked, or for a removed or banned invitee)."""
    token, row, ttl = await invitations.redeem(call.ctx, call.body.invitation, call.body.browser,
                                               call.request.app.state.meetings, call.body.name)
    return RedeemOut(guest_token=token, room_id=row.room_id, invitation_id=row.id, invitee_name=row.invitee_name,
                     name=call.body.name or row.invitee_name, expires_in=int(ttl / timedelta(seconds=1)))
