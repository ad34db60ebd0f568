"""Users and their permissions: /me, /users/…"""

from datetime import datetime

from pydantic import BaseModel, Field

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Email, Id, Input, Name, Page, PageQuery, Search, example
from control.domain.permissions import Change, Permission
from control.services import users

endpoints = EndpointGroup(tag="users")


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    pending: bool = Field(description="invited, no password set yet")
    permissions: list[Permission] = Field(description="held, closed downward")
    created_at: datetime


class InvitationOut(BaseModel):
    user: UserOut
    invitation_token: str = Field(description="shown once: the user sets a password with it")


class InviteIn(Input):
    model_config = example(email="grace@acme.example", name="Grace Hopper", permissions=["create_room"])

    email: Email
    name: Name
    permissions: list[Permission] = Field(
        default_factory=list,
        max_length=len(Permission),
        description="granted at once, with their children; each one the caller may grant",
    )


class UserUpdateIn(Input):
    model_config = example(email="grace.hopper@acme.example", name="Grace B. Hopper")

    email: Email | None = None
    name: Name | None = None


class MeUpdateIn(Input):
    model_config = example(name="Ada King")

    name: Name


class UserQuery(PageQuery):
    pending: bool | None = Field(None, description="only pending (true) or only current (false) users")
    q: Search | None = Field(None, description="part of the name or email")


class UserPath(Input):
    user_id: Id


class PermissionPath(Input):
    user_id: Id
    permission: Permission


def out(view: users.UserView) -> UserOut:
    u = view.user
    return UserOut(
        id=u.id,
        email=u.email,
        name=u.name,
        pending=u.pending,
        created_at=u.created_at,
        permissions=sorted(view.permissions),
    )


@endpoints.get("/me", response=UserOut)
async def get_me(call: Call) -> UserOut:
    """One's own profile

    The caller's user: email, name and the permissions it holds (closed downward: a permission implies its
    children). Through an API key: the profile the key acts as."""
    return out(await users.me(call.ctx, call.principal))


@endpoints.patch("/me", body=MeUpdateIn, response=UserOut, errors=(404,))
async def update_me(call: Call) -> UserOut:
    """Change one's own name

    Any user may rename themselves; changing one's email is an administrator's task (`PATCH /users/{user_id}`)."""
    return out(await users.update(call.ctx, call.principal, call.principal.user_id, email=None, name=call.body.name))


@endpoints.get("/users", query=UserQuery, response=Page[UserOut], errors=(403,))
async def list_users(call: Call) -> Page[UserOut]:
    """List users

    Current and pending users of the company, by name (List all users, else 403 `permission_required`). `pending`
    keeps only pending (true) or current (false) users; `q` matches part of the name or email."""
    q: UserQuery = call.query
    page = await users.list_users(
        call.ctx, call.principal, offset=q.offset, limit=q.limit, pending=q.pending, search=q.q
    )
    return Page[UserOut](items=[out(v) for v in page.items], total=page.total, offset=q.offset, limit=q.limit)


@endpoints.post("/users", body=InviteIn, response=InvitationOut, status=201, errors=(403, 409))
async def invite_user(call: Call) -> InvitationOut:
    """Invite a user

    Create a pending user (Administrate users), optionally with permissions, each of which the caller must be able
    to grant (403 `permission_not_held`, `manage_company_settings_required`). The answer carries the invitation
    token once: the user sets a password with it at `POST /auth/accept-invitation`. 409 `email_taken` if the email
    is in use in the company, 409 `quota_exceeded` beyond the company's user quota."""
    body: InviteIn = call.body
    invitation = await users.invite(
        call.ctx, call.principal, email=body.email, name=body.name, permissions=frozenset(body.permissions)
    )
    return InvitationOut(user=out(invitation.view), invitation_token=invitation.token)


@endpoints.get("/users/{user_id}", path_model=UserPath, response=UserOut, errors=(403, 404))
async def get_user(call: Call) -> UserOut:
    """Get a user

    One user of the company (List all users, or oneself); another company's user is 404."""
    return out(await users.get(call.ctx, call.principal, call.path.user_id))


@endpoints.patch("/users/{user_id}", path_model=UserPath, body=UserUpdateIn, response=UserOut, errors=(403, 404, 409))
async def update_user(call: Call) -> UserOut:
    """Edit a user

    Change a user's email or name (Administrate users, and holding every permission that user holds: 403
    `permissions_exceed_yours`). 409 `email_taken` if the new email is in use."""
    body: UserUpdateIn = call.body
    return out(await users.update(call.ctx, call.principal, call.path.user_id, email=body.email, name=body.name))


@endpoints.delete("/users/{user_id}", path_model=UserPath, status=204, errors=(403, 404))
async def delete_user(call: Call) -> None:
    """Delete a user

    Administrate users, and holding every permission that user holds; not oneself (403 `own_account`). The user's
    sessions and API keys go with it."""
    await users.delete(call.ctx, call.principal, call.path.user_id)


@endpoints.post("/users/{user_id}/password-reset", path_model=UserPath, response=InvitationOut, errors=(403, 404))
async def reset_password(call: Call) -> InvitationOut:
    """Reset a user's password

    Administrate users, and holding every permission that user holds; not oneself (403 `own_account`: use `POST
    /auth/password`). The user's sessions end and its password stops working; the answer carries a new invitation
    token (shown once), with which the user sets a new password at `POST /auth/accept-invitation`."""
    invitation = await users.reset_password(call.ctx, call.principal, call.path.user_id)
    return InvitationOut(user=out(invitation.view), invitation_token=invitation.token)


@endpoints.put(
    "/users/{user_id}/permissions/{permission}", path_model=PermissionPath, response=UserOut, errors=(403, 404)
)
async def grant_permission(call: Call) -> UserOut:
    """Grant a permission

    Grant a permission, and with it its children (`control/domain/permissions.py`). The caller needs Administrate
    users (403 `administrate_users_required`) and must hold the permission (403 `permission_not_held`); Manage
    company settings is granted only by its holders (403 `manage_company_settings_required`). Answers the user as it
    is now."""
    return out(
        await users.change_permission(call.ctx, call.principal, call.path.user_id, call.path.permission, Change.GRANT)
    )


@endpoints.delete(
    "/users/{user_id}/permissions/{permission}", path_model=PermissionPath, response=UserOut, errors=(403, 404, 409)
)
async def revoke_permission(call: Call) -> UserOut:
    """Revoke a permission

    Revoke a permission, and with it its children, under the same rules as granting; nobody revokes their own (403
    `own_permissions`), and a permission implied by a held parent cannot be revoked alone (409
    `permission_implied_by_parent`: revoke the parent). Answers the user as it is now."""
    return out(
        await users.change_permission(call.ctx, call.principal, call.path.user_id, call.path.permission, Change.REVOKE)
    )
