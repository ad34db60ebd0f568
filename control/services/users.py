"""Users: invite, list, edit, reset passwords, delete, grant and revoke permissions."""

from dataclasses import dataclass

from control.domain import permissions as policy
from control.domain.permissions import Change, Permission
from control.domain.quotas import user_allowed
from control.errors import Conflict, Forbidden, NotFound
from control.security import secrets
from control.services import snapshots
from control.services.companies import quotas
from control.services.context import Context, record, require
from control.store.models import User
from control.store.repositories import Page
from control.store.repositories.companies import Companies
from control.store.repositories.sessions import AuthSessions
from control.store.repositories.users import Users
from control.types import Principal


@dataclass(frozen=True)
class UserView:
    user: User
    permissions: frozenset[Permission]


@dataclass(frozen=True)
class Invitation:
    """A user's invitation; `token` is shown once, only its digest is stored."""

    view: UserView
    token: str


_REFUSAL_STATUS = {policy.Refusal.IMPLIED_BY_PARENT: Conflict}


def _refuse(refusal: policy.Refusal, permission: Permission) -> Exception:
    label = policy.LABELS[permission]
    messages = {
        policy.Refusal.NOT_USER_ADMINISTRATOR: "only holders of 'Administrate users' grant or revoke permissions",
        policy.Refusal.OWN_PERMISSIONS: "nobody can revoke their own permissions",
        policy.Refusal.COMPANY_SETTINGS_REQUIRED: "granting or revoking 'Manage company settings' requires holding it",
        policy.Refusal.NOT_HELD: f"you can grant or revoke only permissions you hold, and not '{label}'",
        policy.Refusal.IMPLIED_BY_PARENT: f"'{label}' is held through a parent permission: revoke the parent",
    }
    return _REFUSAL_STATUS.get(refusal, Forbidden)(messages[refusal], code=refusal.value)


async def _target(ctx: Context, principal: Principal, user_id: str) -> tuple[Users, User, frozenset[Permission]]:
    users = Users(ctx.session, principal.company_id)
    user = await users.get(user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return users, user, await users.permissions(user.id)


def _require_covers(principal: Principal, target: frozenset[Permission]) -> None:
    if not policy.covers(principal.permissions, target):
        raise Forbidden("the user holds permissions you do not hold", code="permissions_exceed_yours")


async def me(ctx: Context, principal: Principal) -> UserView:
    _, user, held = await _target(ctx, principal, principal.user_id)
    return UserView(user, held)


async def get(ctx: Context, principal: Principal, user_id: str) -> UserView:
    if user_id != principal.user_id:
        require(principal, Permission.LIST_ALL_USERS)
    _, user, held = await _target(ctx, principal, user_id)
    return UserView(user, held)


async def list_users(
    ctx: Context, principal: Principal, *, offset: int, limit: int, pending: bool | None, search: str | None
) -> Page[UserView]:
    require(principal, Permission.LIST_ALL_USERS)
    users = Users(ctx.session, principal.company_id)
    page = await users.list(offset=offset, limit=limit, pending=pending, search=search)
    return Page([UserView(u, await users.permissions(u.id)) for u in page.items], page.total)


async def _new_invitation(ctx: Context, user: User) -> str:
    token = secrets.new_secret()
    user.invitation_hash = secrets.digest(token)
    user.invitation_expires_at = ctx.now() + ctx.settings.invitation_ttl
    return token


async def invite(
    ctx: Context, principal: Principal, *, email: str, name: str, permissions: frozenset[Permission]
) -> Invitation:
    """A pending user, with the permissions given (each one grantable by the inviter)."""
    require(principal, Permission.ADMINISTRATE_USERS)
    for permission in sorted(permissions):
        refusal = policy.refusal(principal.permissions, frozenset(), permission, Change.GRANT, self_change=False)
        if refusal is not None:
            raise _refuse(refusal, permission)
    users = Users(ctx.session, principal.company_id)
    company = await Companies(ctx.session).get(principal.company_id, for_update=True)
    assert company is not None
    if not user_allowed(quotas(company), await users.count()):
        raise Conflict(f"the company's quota of {company.max_users} users is reached", code="quota_exceeded")
    if await users.by_email(email) is not None:
        raise Conflict(f"a user with the email '{email.lower()}' exists already", code="email_taken")
    user = await users.add(User(email=email, name=name, created_at=ctx.now()))
    token = await _new_invitation(ctx, user)
    held = policy.closure(permissions)
    await users.set_permissions(user.id, held)
    await record(ctx, principal, "user.invited", "user", user.id, after=snapshots.user(user, held))
    await ctx.session.commit()
    return Invitation(UserView(user, held), token)


async def update(ctx: Context, principal: Principal, user_id: str, *, email: str | None, name: str | None) -> UserView:
    """Edit a user's name or email: oneself for the name, Administrate users for anyone else."""
    editing_self = user_id == principal.user_id
    if not editing_self or email is not None:
        require(principal, Permission.ADMINISTRATE_USERS)
    users, user, held = await _target(ctx, principal, user_id)
    if not editing_self:
        _require_covers(principal, held)
    before = snapshots.user(user, held)
    if email is not None and email.lower() != user.email:
        if await users.by_email(email) is not None:
            raise Conflict(f"a user with the email '{email.lower()}' exists already", code="email_taken")
        user.email = email.lower()
    if name is not None:
        user.name = name
    after = snapshots.user(user, held)
    if after != before:
        await record(ctx, principal, "user.updated", "user", user.id, before=before, after=after)
    await ctx.session.commit()
    return UserView(user, held)


async def reset_password(ctx: Context, principal: Principal, user_id: str) -> Invitation:
    """Clear the user's password, end its sessions and send a new invitation to set one."""
    require(principal, Permission.ADMINISTRATE_USERS)
    if user_id == principal.user_id:
        raise Forbidden("change your own password with your current one instead", code="own_account")
    _, user, held = await _target(ctx, principal, user_id)
    _require_covers(principal, held)
    before = snapshots.user(user, held)
    user.password_hash = None
    token = await _new_invitation(ctx, user)
    await AuthSessions(ctx.session).revoke_all(user.id, ctx.now())
    await record(
        ctx, principal, "user.password_reset", "user", user.id, before=before, after=snapshots.user(user, held)
    )
    await ctx.session.commit()
    return Invitation(UserView(user, held), token)


async def delete(ctx: Context, principal: Principal, user_id: str) -> None:
    require(principal, Permission.ADMINISTRATE_USERS)
    if user_id == principal.user_id:
        raise Forbidden("nobody can delete their own account", code="own_account")
    users, user, held = await _target(ctx, principal, user_id)
    _require_covers(principal, held)
    await record(ctx, principal, "user.deleted", "user", user.id, before=snapshots.user(user, held))
    await users.delete(user)
    await ctx.session.commit()


async def change_permission(
    ctx: Context, principal: Principal, user_id: str, permission: Permission, change: Change
) -> UserView:
    # Without Administrate users the answer is the same for every target: nothing tells which exist.
    if not principal.holds(Permission.ADMINISTRATE_USERS):
        raise _refuse(policy.Refusal.NOT_USER_ADMINISTRATOR, permission)
    users, user, held = await _target(ctx, principal, user_id)
    refusal = policy.refusal(principal.permissions, held, permission, change, self_change=user_id == principal.user_id)
    if refusal is not None:
        raise _refuse(refusal, permission)
    after = policy.apply(held, permission, change)
    if after != held:
        await users.set_permissions(user.id, after)
        action = "user.permission_granted" if change is Change.GRANT else "user.permission_revoked"
        await record(
            ctx,
            principal,
            action,
            "user",
            user.id,
            before=snapshots.user(user, held),
            after=snapshots.user(user, after),
        )
    await ctx.session.commit()
    return UserView(user, after)
