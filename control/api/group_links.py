"""Group links, room links for registered users of the company: /rooms/{room_id}/group-links/…,
/group-link-redemptions (control.services.group_links)."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StringConstraints

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input, Instant, Page, PageQuery, Secret, example
from control.domain.roles import Role
from control.services import group_links
from control.store.models import GroupLink

endpoints = EndpointGroup(tag="group-links")

LinkRole = Literal["participant", "moderator"]
"""control.domain.group_links.LINK_ROLES: never organizer."""


def _iso_8601_text(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date and time with a time zone, e.g. 2030-01-31T12:00:00Z")
    return value


def _representable_in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the date lies outside the years 1 to 9999 in UTC") from None


Expiry = Annotated[Instant, BeforeValidator(_iso_8601_text), AfterValidator(_representable_in_utc), Field(strict=False)]
"""control.api.schemas.Instant for a JSON body: a string in ISO 8601 with a time zone, nothing else."""

Label = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
"""One line of printable text, possibly empty."""


class GroupLinkIn(Input):
    model_config = example(
        name="Engineering all-hands", role="participant", user_ids=None, expires_at="2030-06-30T18:00:00Z"
    )

    name: Label = Field("", description="a label for the room's administrators")
    role: LinkRole = Field("participant", description="the default role in the room the link gives")
    user_ids: Annotated[list[Id], Field(min_length=1, max_length=1000)] | None = Field(
        None, description="only these users of the company may redeem it; absent: every registered user"
    )
    expires_at: Expiry | None = Field(None, description="refused from then on; absent: never expires")


class GroupLinkOut(BaseModel):
    id: str
    room_id: str
    name: str
    role: Role
    user_ids: list[str] | None
    expires_at: datetime | None
    revoked_at: datetime | None
    created_by: str
    created_at: datetime


class NewGroupLinkOut(BaseModel):
    link: GroupLinkOut
    secret: str = Field(description="shown once: what the link carries, to POST to /group-link-redemptions")


class RoomPath(Input):
    room_id: Id


class LinkPath(Input):
    room_id: Id
    link_id: Id


class RedeemIn(Input):
    model_config = example(link="Jm1c3VcH2f0Lx9kq8RZp6wYtN4aB7eDq")

    link: Secret = Field(description="the link's secret")


class RedemptionOut(BaseModel):
    room_id: str
    role: Role = Field(description="the caller's default role in the room now")
    changed: bool = Field(description="false: the caller already held this role or a higher one")


def out(link: GroupLink) -> GroupLinkOut:
    return GroupLinkOut(
        id=link.id,
        room_id=link.room_id,
        name=link.name,
        role=Role(link.role),
        user_ids=link.user_ids,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        created_by=link.created_by,
        created_at=link.created_at,
    )


@endpoints.post(
    "/rooms/{room_id}/group-links",
    path_model=RoomPath,
    body=GroupLinkIn,
    response=NewGroupLinkOut,
    status=201,
    errors=(403, 404, 409),
)
async def create_group_link(call: Call) -> NewGroupLinkOut:
    """Create a group link

    A link to the room for the company's registered users (Administrate rooms, or organizing the room, else 403
    `room_administration_required`), with the default `role` it gives (`participant` or `moderator`), optionally
    limited to `user_ids` (404 for an unknown user) and expiring at `expires_at` (409 `expiry_in_past` if already
    past). Its secret is returned once. A room holds at most 100 unrevoked links (409 `quota_exceeded`)."""
    b: GroupLinkIn = call.body
    new = await group_links.create(
        call.ctx,
        call.principal,
        call.path.room_id,
        name=b.name,
        role=Role(b.role),
        user_ids=b.user_ids,
        expires_at=b.expires_at,
    )
    return NewGroupLinkOut(link=out(new.link), secret=new.secret)


@endpoints.get(
    "/rooms/{room_id}/group-links", path_model=RoomPath, query=PageQuery, response=Page[GroupLinkOut], errors=(403, 404)
)
async def list_group_links(call: Call) -> Page[GroupLinkOut]:
    """List a room's group links

    The room's group links, newest first, revoked and expired ones included, never their secrets (Administrate
    rooms, or organizing the room, else 403 `room_administration_required`)."""
    q: PageQuery = call.query
    page = await group_links.list_links(call.ctx, call.principal, call.path.room_id, offset=q.offset, limit=q.limit)
    return Page[GroupLinkOut](items=[out(k) for k in page.items], total=page.total, offset=q.offset, limit=q.limit)


@endpoints.get("/rooms/{room_id}/group-links/{link_id}", path_model=LinkPath, response=GroupLinkOut, errors=(403, 404))
async def get_group_link(call: Call) -> GroupLinkOut:
    """Get a group link

    One group link of the room (Administrate rooms, or organizing the room, else 403
    `room_administration_required`)."""
    return out(await group_links.get(call.ctx, call.principal, call.path.room_id, call.path.link_id))


@endpoints.delete("/rooms/{room_id}/group-links/{link_id}", path_model=LinkPath, status=204, errors=(403, 404))
async def revoke_group_link(call: Call) -> None:
    """Revoke a group link

    The link is refused from now on; access rights it gave stay (Administrate rooms, or organizing the room, else
    403 `room_administration_required`). Revoking again changes nothing."""
    await group_links.revoke(call.ctx, call.principal, call.path.room_id, call.path.link_id)


@endpoints.post("/group-link-redemptions", body=RedeemIn, response=RedemptionOut, errors=(403, 404))
async def redeem_group_link(call: Call) -> RedemptionOut:
    """Redeem a group link

    As a registered user of the link's company (or an API key acting as one): an access right in its room with the
    higher of the role already held there and the link's role. Idempotent: redeeming again changes nothing
    (`changed: false`). 404 `group_link_not_found` for an unknown link or another company's; 403
    `group_link_revoked`, `group_link_expired`, or `group_link_not_for_you` when the link is limited to other users.
    Guest tokens are not accepted (401)."""
    r = await group_links.redeem(call.ctx, call.principal, call.body.link)
    return RedemptionOut(room_id=r.room_id, role=r.role, changed=r.changed)
