"""Users and their permissions: /me, /users/…"""

from datetime import datetime

from pydantic import BaseModel, Field

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Email, Id, Input, Name, Page, PageQuery, Search
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
    email: Email
    name: Name
    permissions: list[Permission] = Field(default_factory=list, max_length=len(Permission))


class UserUpdateIn(Input):
    email: Email | None = None
    name: Name | None = None


class MeUpdateIn(Input):
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
    return UserOut(id=u.id, email=u.email, name=u.name, pending=u.pending, created_at=u.created_at,
                   permissions=sorted(view.permissions))


@endpoints.get("/me", response=UserOut)
async def get_me(call: Call) -> UserOut:
    """The caller's own profile and permissions."""
    return out(await users.me(call.ctx, call.principal))


@endpoints.patch("/me", body=MeUpdateIn, response=UserOut, errors=(404,))
async def update_me(call: Call) -> UserOut:
    """Change one's own name."""
    return out(await users.update(call.ctx, call.principal, call.principal.user_id, email=None, name=call.body.name))


@endpoints.get("/users", query=UserQuery, response=Page[UserOut], errors=(403,))
async def list_users(call: Call) -> Page[UserOut]:
    """Current and pending users (List all users)."""
    q: UserQuery = call.query
    page = await users.list_users(call.ctx, call.principal, offset=q.offset, limit=q.limit, pending=q.pending,
                                  search=q.q)
    return Page[UserOut](items=[out(v) for v in page.items], total=page.total, offset=q.offset, limit=q.limit)


@endpoints.post("/users", body=InviteIn, response=InvitationOut, status=201, errors=(403, 409))
async def invite_user(call: Call) -> InvitationOut:
    """Invite a user (Administrate users); pending until it sets a password with the invitation token."""
    body: InviteIn = call.body
    invitation = await users.invite(call.ctx, call.principal, email=body.email, name=body.name,
                                    permissions=frozenset(body.permissions))
    return InvitationOut(user=out(invitation.view), invitation_token=invitation.token)


@endpoints.get("/users/{user_id}", path_model=UserPath, response=UserOut, errors=(403, 404))
async def get_user(call: Call) -> UserOut:
    """One user (List all users, or oneself)."""
    return out(await users.get(call.ctx, call.principal, call.path.user_id))


@endpoints.patch("/users/{user_id}", path_model=UserPath, body=UserUpdateIn, response=UserOut,
                 errors=(403, 404, 409))
async def update_user(call: Call) -> UserOut:
    """Edit a user's email or name (Administrate users)."""
    body: UserUpdateIn = call.body
    return out(await users.update(call.ctx, call.principal, call.path.user_id, email=body.email, name=body.name))


@endpoints.delete("/users/{user_id}", path_model=UserPath, status=204, errors=(403, 404))
async def delete_user(call: Call) -> None:
    """Delete a user (Administrate users)."""
    await users.delete(call.ctx, call.principal, call.path.user_id)


@endpoints.post("/users/{user_id}/password-reset", path_model=UserPath, response=InvitationOut,
                errors=(403, 404))
async def reset_password(call: Call) -> InvitationOut:
    """Reset a user's password (Administrate users): its sessions end, a new invitation token is issued."""
    invitation = await users.reset_password(call.ctx, call.principal, call.path.user_id)
    return InvitationOut(user=out(invitation.view), invitation_token=invitation.token)


@endpoints.put("/users/{user_id}/permissions/{permission}", path_model=PermissionPath, response=UserOut,
               errors=(403, 404))
async def grant_permission(call: Call) -> UserOut:
    """Grant a permission, and with it its children."""
    return out(await users.change_permission(call.ctx, call.principal, call.path.user_id, call.path.permission,
                                             Change.GRANT))


@endpoints.delete("/users/{user_id}/permissions/{permission}", path_model=PermissionPath, response=UserOut,
                  errors=(403, 404, 409))
async def revoke_permission(call: Call) -> UserOut:
    """Revoke a permission, and with it its children."""
    return out(await users.change_permission(call.ctx, call.principal, call.path.user_id, call.path.permission,
                                             Change.REVOKE))
