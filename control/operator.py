"""The instance operator's API, `/operator/v1`: companies as tenants (create, quotas, suspend, delete).

Authenticated apart from company users: `Authorization: Bearer <operator token>`, the token of the
settings (`podium serve --operator-token`, PODIUM_OPERATOR_TOKEN). Without one configured every path
answers 404, as if the API did not exist. No company user, whatever their permissions, can call it;
the operator token opens nothing in `/api/v1`. Errors have the body and codes of `/api/v1`
(docs/control-api.md, "Instance operator").
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from control import bounds
from control.api.schemas import Email, Input, Name
from control.domain.quotas import Quotas
from control.errors import BadRequest, NotFound, Unauthenticated
from control.meetings import closing
from control.meetings.service import MeetingService
from control.replicas.notices import Notice
from control.services import operator
from control.services.context import Context
from control.store.models import Company

PREFIX = "/operator/v1"
MAX_BODY = 16 * 1024
QUOTA = Field(ge=1, le=1_000_000)


class QuotasIn(Input):
    max_rooms: int = QUOTA
    max_users: int = QUOTA
    max_participants: int = Field(ge=1, le=1_000_000, description="participants online at once")


class CompanyIn(Input):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="used at login")
    name: Name
    admin_email: Email
    admin_name: Name
    admin_password: str = Field(min_length=8, max_length=200)
    quotas: QuotasIn


class CompanyUpdateIn(Input):
    name: Name | None = None
    max_rooms: int | None = Field(None, ge=1, le=1_000_000)
    max_users: int | None = Field(None, ge=1, le=1_000_000)
    max_participants: int | None = Field(None, ge=1, le=1_000_000)
    max_storage_bytes: int | None = Field(
        None, ge=0, le=2**50, description="bytes its shared files and conference materials may hold together"
    )
    suspended: bool | None = Field(
        None, description="true: its users cannot sign in or use tokens and its meetings end; false: lifted"
    )


class CompanyOut(BaseModel):
    id: str
    slug: str
    name: str
    suspended: bool
    max_rooms: int
    max_users: int
    max_participants: int
    max_storage_bytes: int
    rooms: int
    users: int
    online: int


def _out(s: operator.CompanyStatus) -> dict[str, Any]:
    c = s.company
    return CompanyOut(
        id=c.id,
        slug=c.slug,
        name=c.name,
        suspended=c.suspended_at is not None,
        max_rooms=c.max_rooms,
        max_users=c.max_users,
        max_participants=c.max_participants,
        max_storage_bytes=c.max_storage_bytes,
        rooms=s.rooms,
        users=s.users,
        online=s.online,
    ).model_dump()


def _authorize(request: Request) -> None:
    token: str | None = request.app.state.operator_token
    if token is None:
        raise NotFound(f"nothing at {request.url.path}")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Unauthenticated("the operator API needs 'Authorization: Bearer <operator token>'", code="invalid_token")


async def _body(request: Request, model: type[Input]) -> Any:
    raw = await bounds.read_body(request.stream(), request.headers.get("content-length"), MAX_BODY, "operator calls")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        listed, total = bounds.problems(exc, "body")
        if listed and listed[0]["type"] == "json_invalid":
            raise BadRequest("request body is not valid JSON in UTF-8", code="malformed_json") from None
        raise bounds.invalid("invalid body", listed, total) from None


Handler = Callable[[Request, Context, MeetingService], Awaitable[Response]]


def _route(path: str, handlers: dict[str, Handler]) -> Route:
    async def dispatch(request: Request) -> Response:
        _authorize(request)
        async with request.app.state.context() as ctx:
            return await handlers[request.method](request, ctx, request.app.state.meetings)

    return Route(PREFIX + path, dispatch, methods=list(handlers))


async def list_companies(request: Request, ctx: Context, meetings: MeetingService) -> Response:
    rows = await operator.list_companies(ctx, lambda c: closing.online(meetings, c))
    return JSONResponse({"items": [_out(s) for s in rows]})


async def create_company(request: Request, ctx: Context, meetings: MeetingService) -> Response:
    body: CompanyIn = await _body(request, CompanyIn)
    q = body.quotas
    company = await operator.create_company(
        ctx,
        slug=body.slug,
        name=body.name,
        admin_email=body.admin_email,
        admin_name=body.admin_name,
        admin_password=body.admin_password,
        quotas=Quotas(max_rooms=q.max_rooms, max_users=q.max_users, max_participants=q.max_participants),
    )
    return JSONResponse(await _status(ctx, company, meetings), status_code=201)


async def _status(ctx: Context, company: Company, meetings: MeetingService) -> dict[str, Any]:
    return _out(await operator.status(ctx, company, lambda c: closing.online(meetings, c)))


async def get_company(request: Request, ctx: Context, meetings: MeetingService) -> Response:
    company = await operator.get_company(ctx, request.path_params["company_id"])
    return JSONResponse(await _status(ctx, company, meetings))


async def update_company(request: Request, ctx: Context, meetings: MeetingService) -> Response:
    body: CompanyUpdateIn = await _body(request, CompanyUpdateIn)
    company = await operator.update_company(ctx, request.path_params["company_id"], body.model_dump())
    if company.suspended_at is not None:
        await closing.end_company_meetings(meetings, company.id)
        await meetings.ownership.tell(Notice.END_COMPANY, company.id)  # and on the other replicas
    return JSONResponse(await _status(ctx, company, meetings))


async def delete_company(request: Request, ctx: Context, meetings: MeetingService) -> Response:
    company = await operator.get_company(ctx, request.path_params["company_id"])
    await closing.end_company_meetings(meetings, company.id)
    files = request.app.state.files
    keys = await files.owned_keys(ctx, company.id)
    await operator.delete_company(ctx, company.id)
    await meetings.ownership.tell(Notice.END_COMPANY, company.id)  # and on the other replicas
    await files.purge(keys)  # its shared files' bytes, once their rows are gone
    return Response(status_code=204)


def routes() -> list[BaseRoute]:
    return [
        _route("/companies", {"GET": list_companies, "POST": create_company}),
        _route("/companies/{company_id}", {"GET": get_company, "PATCH": update_company, "DELETE": delete_company}),
    ]
