"""Add-ins, the company's registry of integrations: /add-ins/… (Manage company settings).

Enabled webhooks with a secret receive signed deliveries (control.webhooks); links are only stored."""

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input, Name, Page, PageQuery, example
from control.services import addins
from control.services.addins import Kind
from control.store.models import AddIn

endpoints = EndpointGroup(tag="add-ins")


_PORT = r"(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?"
URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+" + _PORT + r"(?:[/?#][^\s\x00-\x1f\x7f]*)?$"
"""http(s)://, a host name or IPv4 address, an optional port 1-65535, then path, query and fragment without
spaces or control characters (no user:password@, no IPv6 literal)."""


def _http_url(value: str) -> str:
    """What the pattern says, checked again by the parser that reads it (defence in depth)."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or port == 0:
        raise ValueError("expected an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the URL must not carry credentials (user:password@); use the add-in's secret")
    return value


HttpUrl = Annotated[
    str, StringConstraints(min_length=8, max_length=2000, pattern=URL_PATTERN), AfterValidator(_http_url)
]
"""An absolute http or https URL with a host, without credentials, kept as given."""


class AddInOut(BaseModel):
    id: str
    name: str
    kind: Kind
    url: str
    enabled: bool
    has_secret: bool = Field(description="whether a shared secret is set (it is shown only when issued)")
    created_at: datetime
    updated_at: datetime


class NewAddInOut(BaseModel):
    add_in: AddInOut
    secret: str | None = Field(description="the shared secret, shown once; null when none was asked for")


class AddInIn(Input):
    model_config = example(
        name="Ticketing", kind="webhook", url="https://tickets.example.com/hooks/podium", enabled=True, secret=True
    )

    name: Name = Field(description="unique in the company")
    kind: Kind = Field(
        description="webhook: an endpoint of another system, sent signed events; link: a web page, for people"
    )
    url: HttpUrl = Field(description="absolute http(s) URL with a host, without user:password@")
    enabled: bool = True
    secret: bool = Field(False, description="issue a shared secret, returned once in the response")


class AddInUpdateIn(Input):
    model_config = example(enabled=False)

    name: Name | None = None
    kind: Kind | None = None
    url: HttpUrl | None = None
    enabled: bool | None = None


class AddInQuery(PageQuery):
    kind: Kind | None = None
    enabled: bool | None = None


class AddInPath(Input):
    add_in_id: Id


def out(a: AddIn) -> AddInOut:
    return AddInOut(
        id=a.id,
        name=a.name,
        kind=Kind(a.kind),
        url=a.url,
        enabled=a.enabled,
        has_secret=a.secret_hash is not None,
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


@endpoints.get("/add-ins", query=AddInQuery, response=Page[AddInOut], errors=(403,))
async def list_add_ins(call: Call) -> Page[AddInOut]:
    """List add-ins

    The company's add-ins, by name (Manage company settings, else 403 `permission_required`); `kind` and `enabled`
    filter. Never their secrets, only `has_secret`."""
    q: AddInQuery = call.query
    page = await addins.list_add_ins(
        call.ctx, call.principal, offset=q.offset, limit=q.limit, kind=q.kind, enabled=q.enabled
    )
    return Page[AddInOut](items=[out(a) for a in page.items], total=page.total, offset=q.offset, limit=q.limit)


@endpoints.post("/add-ins", body=AddInIn, response=NewAddInOut, status=201, errors=(403, 409))
async def create_add_in(call: Call) -> NewAddInOut:
    """Register an add-in

    A name unique in the company (409 `add_in_name_taken`), a kind (`webhook` or `link`), an http(s) URL and whether
    it is enabled (Manage company settings, else 403 `permission_required`). With `"secret": true` a shared secret
    is generated and returned once (a webhook's in the Standard Webhooks form `whsec_…`: it signs the deliveries). A
    company holds at most 100 add-ins (409 `quota_exceeded`). See "Add-ins" and "Webhooks" in `docs/control-api.md`."""
    b: AddInIn = call.body
    new = await addins.create(
        call.ctx, call.principal, name=b.name, kind=b.kind, url=b.url, enabled=b.enabled, with_secret=b.secret
    )
    return NewAddInOut(add_in=out(new.add_in), secret=new.secret)


@endpoints.get("/add-ins/{add_in_id}", path_model=AddInPath, response=AddInOut, errors=(403, 404))
async def get_add_in(call: Call) -> AddInOut:
    """Get an add-in

    One add-in of the company (Manage company settings, else 403 `permission_required`)."""
    return out(await addins.get(call.ctx, call.principal, call.path.add_in_id))


@endpoints.patch(
    "/add-ins/{add_in_id}", path_model=AddInPath, body=AddInUpdateIn, response=AddInOut, errors=(403, 404, 409)
)
async def update_add_in(call: Call) -> AddInOut:
    """Change an add-in

    Its name, kind, URL, or enabled flag (Manage company settings, else 403 `permission_required`); fields left out
    stay as they are. 409 `add_in_name_taken` if the new name is in use."""
    changes = call.body.model_dump(exclude_unset=True)
    return out(await addins.update(call.ctx, call.principal, call.path.add_in_id, changes))


@endpoints.delete("/add-ins/{add_in_id}", path_model=AddInPath, status=204, errors=(403, 404))
async def delete_add_in(call: Call) -> None:
    """Delete an add-in

    Delete an add-in and its secret (Manage company settings, else 403 `permission_required`)."""
    await addins.delete(call.ctx, call.principal, call.path.add_in_id)


@endpoints.post(
    "/add-ins/{add_in_id}/secret", path_model=AddInPath, response=NewAddInOut, status=201, errors=(403, 404)
)
async def issue_add_in_secret(call: Call) -> NewAddInOut:
    """Issue an add-in secret

    A new shared secret, generated by Podium and returned once; the previous one stops being valid at once (Manage
    company settings, else 403 `permission_required`)."""
    new = await addins.set_secret(call.ctx, call.principal, call.path.add_in_id, new=True)
    return NewAddInOut(add_in=out(new.add_in), secret=new.secret)


@endpoints.delete("/add-ins/{add_in_id}/secret", path_model=AddInPath, status=204, errors=(403, 404))
async def remove_add_in_secret(call: Call) -> None:
    """Remove an add-in secret

    The add-in keeps no secret from now on (Manage company settings, else 403 `permission_required`)."""
    await addins.set_secret(call.ctx, call.principal, call.path.add_in_id, new=False)
