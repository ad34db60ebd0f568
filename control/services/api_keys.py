"""API keys: each acts as one user profile and can do exactly what that profile may."""

from dataclasses import dataclass

from control.domain.permissions import Permission, covers
from control.errors import Forbidden, NotFound
from control.security import secrets
from control.services import snapshots
from control.services.context import Context, record, require
from control.store.models import ApiKey
from control.store.repositories import Page
from control.store.repositories.api_keys import ApiKeys
from control.store.repositories.users import Users
from control.types import Principal


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str
    """Shown once; only its digest is stored."""


async def create(ctx: Context, principal: Principal, *, name: str, user_id: str) -> NewKey:
    require(principal, Permission.MANAGE_COMPANY_SETTINGS)
    users = Users(ctx.session, principal.company_id)
    if await users.get(user_id) is None:
        raise NotFound(f"user {user_id} not found")
    # Always true while Manage company settings is the root of the tree; kept should the tree grow.
    if not covers(principal.permissions, await users.permissions(user_id)):
        raise Forbidden("a key's profile may not hold permissions you do not hold", code="permissions_exceed_yours")
    secret = secrets.new_api_key()
    key = await ApiKeys(ctx.session, principal.company_id).add(
        ApiKey(name=name, user_id=user_id, secret_hash=secrets.digest(secret), created_at=ctx.now())
    )
    await record(ctx, principal, "api_key.created", "api_key", key.id, after=snapshots.api_key(key))
    await ctx.session.commit()
    return NewKey(key, secret)


async def list_keys(
    ctx: Context, principal: Principal, *, offset: int, limit: int, user_id: str | None
) -> Page[ApiKey]:
    require(principal, Permission.MANAGE_COMPANY_SETTINGS)
    return await ApiKeys(ctx.session, principal.company_id).list(offset=offset, limit=limit, user_id=user_id)


async def get(ctx: Context, principal: Principal, key_id: str) -> ApiKey:
    require(principal, Permission.MANAGE_COMPANY_SETTINGS)
    key = await ApiKeys(ctx.session, principal.company_id).get(key_id)
    if key is None:
        raise NotFound(f"API key {key_id} not found")
    return key


async def revoke(ctx: Context, principal: Principal, key_id: str) -> None:
    """Revoke a key; revoking a revoked key changes nothing."""
    key = await get(ctx, principal, key_id)
    if key.revoked_at is None:
        before = snapshots.api_key(key)
        key.revoked_at = ctx.now()
        await record(ctx, principal, "api_key.revoked", "api_key", key.id, before=before, after=snapshots.api_key(key))
    await ctx.session.commit()
