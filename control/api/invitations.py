"""Guest invitation links: /rooms/{room_id}/invitations, /invitations/…

An invitation is personalized, valid only in its window, single-use and bound to the browser that
redeemed it, revocable, and carries only rights its issuer holds (control.domain.invitations)."""

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input, Name, example
from control.domain.roles import Capability
from control.meetings import guests
from control.replicas.notices import Notice
from control.services import companies, invitations

endpoints = EndpointGroup(tag="invitations")


class RoomPath(Input):
    room_id: Id


class InvitationPath(Input):
    invitation_id: Id


class InvitationIn(Input):
    model_config = example(
        invitee_name="Dr. Jane Doe",
        rights=["microphone", "camera", "chat"],
        not_before="2030-01-31T09:00:00Z",
        not_after="2030-01-31T17:00:00Z",
    )

    invitee_name: Name = Field(description="the one person the link is for, as others will see them")
    rights: list[Capability] = Field(
        default_factory=lambda: [Capability.MICROPHONE, Capability.CAMERA, Capability.CHAT, Capability.WHITEBOARD],
        description="what the guest may do in the meeting (default: microphone, "
        "camera, chat, whiteboard); only rights the issuer holds",
    )
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
DisplayName = Annotated[
    str,
    Field(
        max_length=1024,  # a hard bound before trimming; 64 after it
        json_schema_extra={"maxLength": guests.MAX_DISPLAY_NAME, "pattern": _DISPLAY_NAME_PATTERN},
    ),
    AfterValidator(_display_name),
]


class RedeemIn(Input):
    model_config = example(
        invitation="q8RZp6wYtN4aB7eDqJm1c3VcH2f0Lx9k", browser="b3f1c2d4e5a6978812345678", name="Jane"
    )

    invitation: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="the secret the link carries (after #invitation=)"
    )
    browser: Annotated[str, Field(min_length=16, max_length=200)] = Field(
        description="a random id the browser keeps (localStorage); the invitation binds to it"
    )
    name: DisplayName | None = Field(
        None,
        description="the name the guest entered, shown to others (trimmed, "
        "1-64 characters, no control characters); default: the "
        "invitee name",
    )


class RedeemOut(BaseModel):
    guest_token: str
    room_id: str
    invitation_id: str
    invitee_name: str
    name: str = Field(description="the name others see (subject to Show all usernames)")
    expires_in: int
    privacy_notice: str = Field(
        "", description="the host company's data-protection notice, shown to the guest before they enter"
    )


def out(row) -> InvitationOut:  # type: ignore[no-untyped-def]
    return InvitationOut(
        id=row.id,
        room_id=row.room_id,
        invitee_name=row.invitee_name,
        invitee=row.invitee_key,
        rights=[Capability(r) for r in row.rights],
        not_before=row.not_before,
        not_after=row.not_after,
        redeemed=row.browser_hash is not None,
        revoked=row.revoked_at is not None,
        created_at=row.created_at,
    )


@endpoints.post(
    "/rooms/{room_id}/invitations",
    path_model=RoomPath,
    body=InvitationIn,
    response=IssuedOut,
    status=201,
    errors=(403, 404, 409),
)
async def issue_invitation(call: Call) -> IssuedOut:
    """Create a guest invitation

    A personalized link for one guest without an account: `invitee_name`, the `rights` the guest gets in the meeting
    (microphone, camera, screen share, chat; only rights the issuer holds in the room, else 403 `rights_not_held`),
    and a validity window (`not_before`, default now; `not_after`, default 24 hours later; one that ends before it
    starts is 403 `invalid_window`, one that has ended already 409 `expiry_in_past`). Anyone with access to the room
    may invite (403 `no_access` otherwise). The answer carries the secret (`invitation`) once: the guest opens
    `/join.html#invitation=<secret>`, or an application redeems it at `POST /invitation-redemptions`."""
    b: InvitationIn = call.body
    row, secret = await invitations.issue(
        call.ctx, call.principal, call.path.room_id, b.invitee_name, frozenset(b.rights), b.not_before, b.not_after
    )
    return IssuedOut(**out(row).model_dump(), invitation=secret)


class InvitationList(BaseModel):
    items: list[InvitationOut]


@endpoints.get("/rooms/{room_id}/invitations", path_model=RoomPath, response=InvitationList, errors=(403, 404))
async def list_invitations(call: Call) -> InvitationList:
    """List a room's guest invitations

    The room's invitations, with whether each was redeemed or revoked, never their secrets (the room's organizers
    and moderators and holders of Administrate rooms; 403 `no_access` for others)."""
    rows = await invitations.list_for_room(call.ctx, call.principal, call.path.room_id)
    return InvitationList(items=[out(r) for r in rows])


@endpoints.delete("/invitations/{invitation_id}", path_model=InvitationPath, status=204, errors=(403, 404))
async def revoke_invitation(call: Call) -> None:
    """Revoke a guest invitation

    The link stops working and its guest's sessions end at once: a guest in a running meeting is disconnected (its
    issuer, the room's moderators, holders of Administrate rooms)."""
    meetings = call.request.app.state.meetings
    await invitations.revoke(call.ctx, call.principal, call.path.invitation_id)
    await invitations.disconnect_guest(meetings, call.path.invitation_id)
    await meetings.ownership.tell(Notice.REVOKED_INVITATION, call.path.invitation_id)  # the other replicas


@endpoints.post(
    "/invitation-redemptions",
    body=RedeemIn,
    response=RedeemOut,
    authenticated=False,
    errors=(403, 404),
    rate_limit="invitation",
)
async def redeem_invitation(call: Call) -> RedeemOut:
    """Redeem a guest invitation

    Open a link from a browser, without credentials: the answer's `guest_token` authenticates the guest on signaling
    (`docs/signaling.md`). The invitation binds to the first `browser` id that redeems it; redeeming again from that
    browser gives a new token. Refused (403) outside its window (`not_yet_valid`, `expired`), from another browser
    (`already_used_elsewhere`), once revoked (`revoked`), or for an invitee removed from or banned in the room
    (`removed`, `banned`: told even though the removal also revoked the invitation); an unknown secret is 404. The
    answer carries the company's data-protection notice, which the guest page shows before the guest enters."""
    token, row, ttl = await invitations.redeem(
        call.ctx, call.body.invitation, call.body.browser, call.request.app.state.meetings, call.body.name
    )
    return RedeemOut(
        guest_token=token,
        room_id=row.room_id,
        invitation_id=row.id,
        invitee_name=row.invitee_name,
        name=call.body.name or row.invitee_name,
        expires_in=int(ttl / timedelta(seconds=1)),
        privacy_notice=await companies.privacy_notice(call.ctx, row.company_id),
    )
