"""API keys: /api-keys/…"""

from datetime import datetime

from pydantic import BaseModel, Field

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input, Name, Page, PageQuery
from control.services import api_keys
from control.store.models import ApiKey

endpoints = EndpointGroup(tag="api-keys")


class ApiKeyOut(BaseModel):
    id: str
    name: str
    user_id: str = Field(description="the user profile the key acts as")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewApiKeyOut(BaseModel):
    key: ApiKeyOut
    secret: str = Field(description="shown once: send it as 'Authorization: Bearer <secret>'")


class ApiKeyIn(Input):
    name: Name
    user_id: Id = Field(description="the user profile the key acts as")


class ApiKeyQuery(PageQuery):
    user_id: Id | None = None


class ApiKeyPath(Input):
    key_id: Id


def out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(id=key.id, name=key.name, user_id=key.user_id, created_at=key.created_at,
                     last_used_at=key.last_used_at, revoked_at=key.revoked_at)


@endpoints.get("/api-keys", query=ApiKeyQuery, response=Page[ApiKeyOut], errors=(403,))
async def list_api_keys(call: Call) -> Page[ApiKeyOut]:
    """The company's API keys, revoked ones included (Manage company settings)."""
    q: ApiKeyQuery = call.query
    page = await api_keys.list_keys(call.ctx, call.principal, offset=q.offset, limit=q.limit, user_id=q.user_id)
    return Page[ApiKeyOut](items=[out(k) for k in page.items], total=page.total, offset=q.offset, limit=q.limit)


@endpoints.post("/api-keys", body=ApiKeyIn, response=NewApiKeyOut, status=201, errors=(403, 404))
async def create_api_key(call: Call) -> NewApiKeyOut:
    """Issue a key acting as a user profile (Manage company settings); its secret is shown once."""
    new = await api_keys.create(call.ctx, call.principal, name=call.body.name, user_id=call.body.user_id)
    return NewApiKeyOut(key=out(new.key), secret=new.secret)


@endpoints.get("/api-keys/{key_id}", path_model=ApiKeyPath, response=ApiKeyOut, errors=(403, 404))
async def get_api_key(call: Call) -> ApiKeyOut:
    """One API key, with its last use."""
    return out(await api_keys.get(call.ctx, call.principal, call.path.key_id))


@endpoints.delete("/api-keys/{key_id}", path_model=ApiKeyPath, status=204, errors=(403, 404))
async def revoke_api_key(call: Call) -> None:
    """Revoke an API key."""
    await api_keys.revoke(call.ctx, call.principal, call.path.key_id)
