"""API keys: /api-keys/…"""

from datetime import datetime

from pydantic import BaseModel, Field

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input, Name, Page, PageQuery, example
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
    model_config = example(name="Calendar sync", user_id="5f0c6a3e9d2b4c71a8e4f0b2c3d4e5f6")

    name: Name
    user_id: Id = Field(description="the user profile the key acts as")


class ApiKeyQuery(PageQuery):
    user_id: Id | None = Field(None, description="only the keys acting as this user")


class ApiKeyPath(Input):
    key_id: Id


def out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        user_id=key.user_id,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


@endpoints.get("/api-keys", query=ApiKeyQuery, response=Page[ApiKeyOut], errors=(403,))
async def list_api_keys(call: Call) -> Page[ApiKeyOut]:
    """List API keys

    The company's API keys, revoked ones included, newest first (Manage company settings); `user_id` keeps one
    profile's keys. Never the secrets."""
    q: ApiKeyQuery = call.query
    page = await api_keys.list_keys(call.ctx, call.principal, offset=q.offset, limit=q.limit, user_id=q.user_id)
    return Page[ApiKeyOut](items=[out(k) for k in page.items], total=page.total, offset=q.offset, limit=q.limit)


@endpoints.post("/api-keys", body=ApiKeyIn, response=NewApiKeyOut, status=201, errors=(403, 404))
async def create_api_key(call: Call) -> NewApiKeyOut:
    """Issue an API key

    A key acting as a user profile of the company (Manage company settings): it can do exactly what that user may
    do, as that user's permissions are at each request. The secret (`pdm_…`) is in this answer only; it is stored as
    SHA-256. 404 if the user is not in the company; 403 `permissions_exceed_yours` if that user holds permissions
    the caller does not."""
    new = await api_keys.create(call.ctx, call.principal, name=call.body.name, user_id=call.body.user_id)
    return NewApiKeyOut(key=out(new.key), secret=new.secret)


@endpoints.get("/api-keys/{key_id}", path_model=ApiKeyPath, response=ApiKeyOut, errors=(403, 404))
async def get_api_key(call: Call) -> ApiKeyOut:
    """Get an API key

    One API key with its last use (written at most once a minute), never its secret (Manage company settings)."""
    return out(await api_keys.get(call.ctx, call.principal, call.path.key_id))


@endpoints.delete("/api-keys/{key_id}", path_model=ApiKeyPath, status=204, errors=(403, 404))
async def revoke_api_key(call: Call) -> None:
    """Revoke an API key

    The key stops working at once, within this control-plane process (Manage company settings); revoking it again
    changes nothing."""
    await api_keys.revoke(call.ctx, call.principal, call.path.key_id)
