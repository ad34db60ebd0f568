"""Add-ins: the company's registry of integrations (Manage company settings).

Podium calls the URL of enabled "webhook" add-ins that hold a secret: signed event deliveries
following the Standard Webhooks specification (control.webhooks; docs/control-api.md, "Webhooks"). A
webhook's secret is issued in that specification's form (`whsec_<base64>`) and kept sealed
(control.security.sealing), since signing needs it (a digest cannot key an HMAC); its digest is kept
too, as for every secret. "link" add-ins are only stored.
"""

import base64
import hashlib
import secrets as random
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from control.domain.permissions import Permission
from control.errors import Conflict, NotFound
from control.security import sealing, secrets
from control.services.context import Context, record, require
from control.store.models import AddIn
from control.store.repositories import Page
from control.store.repositories.addins import AddIns
from control.types import Principal

MAX_ADD_INS = 100
"""Add-ins a company may register."""


class Kind(StrEnum):
    WEBHOOK = "webhook"
    """An endpoint of another system that receives Podium's events, signed (Standard Webhooks)."""
    LINK = "link"
    """A web page of another system, for people (e.g. a booking page or a help desk)."""


@dataclass(frozen=True)
class NewSecret:
    add_in: AddIn
    secret: str | None
    """Shown once; only its digest is stored. None: the add-in has no secret."""


def snapshot(a: AddIn) -> dict[str, Any]:
    """The audit picture of an add-in: never its secret, and of its URL only the origin and a fingerprint
    (webhook URLs often carry a token in their path or query)."""
    parts = urlsplit(a.url)
    return {
        "name": a.name,
        "kind": a.kind,
        "url_origin": f"{parts.scheme}://{parts.netloc}",
        "url_sha256": hashlib.sha256(a.url.encode()).hexdigest()[:16],
        "enabled": a.enabled,
        "has_secret": a.secret_hash is not None,
    }


WEBHOOK_SECRET_PREFIX = "whsec_"


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: whsec_ and 32 random bytes in base64."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(random.token_bytes(32)).decode()


def _issue(ctx: Context, add_in: AddIn, kind: str) -> str:
    """A new secret for the add-in: a signing secret for a webhook (kept sealed, as signing needs it), an
    opaque one for a link."""
    webhook = kind == Kind.WEBHOOK.value
    secret = new_webhook_secret() if webhook else secrets.new_secret()
    add_in.secret_hash = secrets.digest(secret)
    add_in.signing_secret = sealing.seal(ctx.token_key, secret) if webhook else None
    return secret


async def _unique_name(repo: AddIns, name: str, add_in_id: str | None = None) -> None:
    existing = await repo.by_name(name)
    if existing is not None and existing.id != add_in_id:
        raise Conflict(f"an add-in named {name!r} exists", code="add_in_name_taken")


async def create(
    ctx: Context, principal: Principal, *, name: str, kind: Kind, url: str, enabled: bool, with_secret: bool
) -> NewSecret:
    require(principal, Permission.MANAGE_COMPANY_SETTINGS)
    repo = AddIns(ctx.session, principal.company_id)
    await _unique_name(repo, name)
    if await repo.count() >= MAX_ADD_INS:
        raise Conflict(f"a company holds at most {MAX_ADD_INS} add-ins", code="quota_exceeded")
    now = ctx.now()
    add_in = AddIn(name=name, kind=kind.value, url=url, enabled=enabled, created_at=now, updated_at=now)
    secret = _issue(ctx, add_in, kind.value) if with_secret else None
    add_in = await repo.add(add_in)
    await record(ctx, principal, "add_in.created", "add_in", add_in.id, after=snapshot(add_in))
    await ctx.session.commit()
    return NewSecret(add_in, secret)


async def list_add_ins(
    ctx: Context, principal: Principal, *, offset: int, limit: int, kind: Kind | None, enabled: bool | None
) -> Page[AddIn]:
    require(principal, Permission.MANAGE_COMPANY_SETTINGS)
    return await AddIns(ctx.session, principal.company_id).list(
        offset=offset, limit=limit, kind=kind.value if kind else None, enabled=enabled
    )


async def _get(ctx: Context, principal: Principal, add_in_id: str) -> tuple[AddIns, AddIn]:
    require(principal, Permission.MANAGE_COMPANY_SETTINGS)
    repo = AddIns(ctx.session, principal.company_id)
    add_in = await repo.get(add_in_id)
    if add_in is None:
        raise NotFound(f"add-in {add_in_id} not found")
    return repo, add_in


async def get(ctx: Context, principal: Principal, add_in_id: str) -> AddIn:
    return (await _get(ctx, principal, add_in_id))[1]


async def update(ctx: Context, principal: Principal, add_in_id: str, changes: dict[str, Any]) -> AddIn:
    """Change name, kind, URL or enabled flag; `changes` holds only the fields given (None: unchanged)."""
    repo, add_in = await _get(ctx, principal, add_in_id)
    changes = {k: (v.value if isinstance(v, Kind) else v) for k, v in changes.items() if v is not None}
    if "name" in changes:
        await _unique_name(repo, changes["name"], add_in.id)
    before = snapshot(add_in)
    for field, value in changes.items():
        setattr(add_in, field, value)
    after = snapshot(add_in)
    if after != before:
        add_in.updated_at = ctx.now()
        await record(ctx, principal, "add_in.updated", "add_in", add_in.id, before=before, after=after)
    await ctx.session.commit()
    return add_in


async def delete(ctx: Context, principal: Principal, add_in_id: str) -> None:
    repo, add_in = await _get(ctx, principal, add_in_id)
    await record(ctx, principal, "add_in.deleted", "add_in", add_in.id, before=snapshot(add_in))
    await repo.delete(add_in)
    await ctx.session.commit()


async def set_secret(ctx: Context, principal: Principal, add_in_id: str, *, new: bool) -> NewSecret:
    """Issue a new shared secret (the old one stops being valid), or with `new` false remove it."""
    _, add_in = await _get(ctx, principal, add_in_id)
    if not new and add_in.secret_hash is None:
        await ctx.session.commit()
        return NewSecret(add_in, None)
    before = snapshot(add_in)
    secret = _issue(ctx, add_in, add_in.kind) if new else None
    if secret is None:
        add_in.secret_hash = add_in.signing_secret = None
    add_in.updated_at = ctx.now()
    await record(
        ctx,
        principal,
        "add_in.secret_rotated" if new else "add_in.secret_removed",
        "add_in",
        add_in.id,
        before=before,
        after=snapshot(add_in),
    )
    await ctx.session.commit()
    return NewSecret(add_in, secret)
