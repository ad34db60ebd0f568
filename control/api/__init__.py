"""The REST API under /api/v1: one module per resource, each an EndpointGroup."""

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from control.api import (
    addins,
    api_keys,
    attendance,
    audit,
    auth,
    bans,
    chat,
    company,
    departments,
    files,
    group_links,
    invitations,
    meetings,
    recordings,
    rooms,
    users,
    webhooks,
    whiteboard,
)
from control.api.endpoint import API_PREFIX, Endpoint, to_routes
from control.api.openapi import document

ENDPOINTS: list[Endpoint] = [
    e
    for module in (
        auth,
        users,
        company,
        api_keys,
        departments,
        rooms,
        audit,
        attendance,
        chat,
        meetings,
        recordings,
        invitations,
        bans,
        addins,
        webhooks,
        group_links,
        whiteboard,
        files,
    )
    for e in module.endpoints.endpoints
]


def routes() -> list[BaseRoute]:
    spec = document(ENDPOINTS)

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(spec)

    return [Route(API_PREFIX + "/openapi.json", openapi, methods=["GET"]), *to_routes(ENDPOINTS)]
