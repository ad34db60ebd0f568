"""Endpoints: one declaration gives both the Starlette route and its OpenAPI operation.

A handler takes a `Call` (validated path, query and body, the caller, the service context) and returns a
pydantic model (serialised with the endpoint's status), None (204), or a Starlette Response. Its docstring
documents the operation: the first paragraph is the summary, the rest the description.
"""

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from control import bounds
from control.errors import BadRequest, Invalid, NotFound, Unauthenticated
from control.ratelimit import RateLimiter
from control.services import auth
from control.services.context import Context
from control.settings import Limits
from control.types import Principal

API_PREFIX = "/api/v1"


@dataclass
class Call:
    request: Request
    ctx: Context
    principal_or_none: Principal | None
    path: Any
    query: Any
    body: Any

    @property
    def principal(self) -> Principal:
        assert self.principal_or_none is not None, "endpoint declared without authentication"
        return self.principal_or_none


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    """Relative to /api/v1, with {name} parameters."""
    handler: Handler
    summary: str
    tag: str
    description: str = ""
    """CommonMark: who may call it, what it changes, its errors' codes."""
    status: int = 200
    response: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    path_model: type[BaseModel] | None = None
    """Validates the path parameters (a failure is 404); all parameters are plain strings without it."""
    authenticated: bool = True
    errors: tuple[int, ...] = ()
    """Error statuses besides those every endpoint may answer (401 when authenticated, 422 with input)."""
    media_type: str = "application/json"
    alternative_media_types: tuple[str, ...] = ()
    """Other media types the handler may answer with on success (e.g. text/csv on ?format=csv)."""
    rate_limit: str | None = None
    """The per-address rate limit of `control.settings.Limits` it counts against (429 beyond), if any."""

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


@dataclass
class EndpointGroup:
    """The endpoints of one resource module."""

    tag: str
    endpoints: list[Endpoint] = field(default_factory=list)

    def add(self, method: str, path: str, **options: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            first, _, rest = inspect.cleandoc(handler.__doc__ or handler.__name__).partition("\n\n")
            summary = options.pop("summary", None) or " ".join(first.split())
            description = options.pop("description", None) or _paragraphs(rest)
            self.endpoints.append(
                Endpoint(method, path, handler, summary=summary, tag=self.tag, description=description, **options)
            )
            return handler

        return register

    def get(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.add("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.add("POST", path, **options)

    def put(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.add("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.add("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.add("DELETE", path, **options)


def _paragraphs(text: str) -> str:
    """Docstring paragraphs as CommonMark: lines joined, list items ("- ") kept on lines of their own."""
    out = []
    for paragraph in text.strip().split("\n\n"):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        items: list[str] = []
        for line in lines:
            if line.startswith("- ") or not items:
                items.append(line)
            else:
                items[-1] += " " + line
        out.append("\n".join(items))
    return "\n\n".join(p for p in out if p)


def _validate_strings(model: type[BaseModel], data: dict[str, str], where: str) -> BaseModel:
    """Validate query or path parameters: strings converted as their JSON Schema types say."""
    try:
        return model.model_validate_strings(data, strict=False)
    except ValidationError as exc:
        raise bounds.invalid(f"invalid {where}", *bounds.problems(exc, where)) from None


async def _validate_body(model: type[BaseModel], request: Request, limits: Limits, authenticated: bool) -> BaseModel:
    """Read the body within its size limit, check its JSON's shape (control.bounds), then validate it
    (strict: no coercion of types)."""
    if authenticated:
        limit, what = limits.max_body, "authenticated requests"
    else:
        limit, what = limits.max_body_unauthenticated, "requests without credentials"
    raw = await bounds.read_body(request.stream(), request.headers.get("content-length"), limit, what)
    if not raw.strip():
        raise Invalid(
            "a JSON request body is required", details=[{"field": "body", "message": "missing", "type": "missing"}]
        )
    try:
        await bounds.decode_off_loop(raw, limits.max_json_depth, limits.max_json_values, model)
    except bounds.NotJson:
        raise BadRequest("request body is not valid JSON in UTF-8", code="malformed_json") from None
    except bounds.ShapeError as error:
        raise Invalid(error.message, code=error.code) from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        listed, total = bounds.problems(exc, "body")
        if listed and listed[0]["type"] == "json_invalid":
            raise BadRequest("request body is not valid JSON in UTF-8", code="malformed_json") from None
        raise bounds.invalid("invalid body", listed, total) from None


def _peer(request: Request) -> str:
    """The socket's peer address (a forwarded address is not trusted)."""
    return request.client.host if request.client is not None else "unknown"


def _credential(request: Request) -> str:
    header = request.headers.get("authorization")
    if header is None:
        raise Unauthenticated("missing Authorization header")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <token or API key>'")
    return credential.strip()


def _runner(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        if endpoint.rate_limit is not None:
            limiter: RateLimiter = request.app.state.rate_limiter
            limiter.check(endpoint.rate_limit, _peer(request))
        limits: Limits = request.app.state.limits
        make_context: Callable[[], Any] = request.app.state.context
        async with make_context() as ctx:
            principal = await auth.authenticate(ctx, _credential(request)) if endpoint.authenticated else None
            path: Any = dict(request.path_params)
            if endpoint.path_model is not None:
                try:
                    path = endpoint.path_model.model_validate_strings(path, strict=False)
                except ValidationError:
                    raise NotFound(f"nothing at {request.url.path}") from None
            query = (
                _validate_strings(endpoint.query, dict(request.query_params), "query")
                if endpoint.query is not None
                else None
            )
            body = (
                await _validate_body(endpoint.body, request, limits, endpoint.authenticated)
                if endpoint.body is not None
                else None
            )
            result = await endpoint.handler(Call(request, ctx, principal, path, query, body))
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(status_code=204)
        return JSONResponse(result.model_dump(mode="json"), status_code=endpoint.status)

    return run


def to_routes(endpoints: list[Endpoint]) -> list[Route]:
    """One route per path, dispatching on the method, so that a 405 lists every allowed method."""
    by_path: dict[str, dict[str, Endpoint]] = {}
    for endpoint in endpoints:
        by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint
    routes = []
    for path, methods in by_path.items():
        runners = {method: _runner(endpoint) for method, endpoint in methods.items()}
        if "GET" in runners:
            runners["HEAD"] = runners["GET"]

        async def dispatch(request: Request, runners: dict[str, Any] = runners) -> Response:
            return await runners[request.method](request)

        routes.append(Route(API_PREFIX + path, dispatch, methods=list(methods)))
    return routes
