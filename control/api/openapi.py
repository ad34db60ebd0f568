"""The OpenAPI 3.1 description, generated from the endpoint declarations and pydantic's JSON Schemas."""

from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from control.api.endpoint import API_PREFIX, Endpoint
from control.api.schemas import ErrorOut

REF = "#/components/schemas/{model}"

_REASONS = {
    307: "The meeting runs on another control-plane replica (meeting_elsewhere): the same request there, at Location",
    400: "Malformed request",
    401: "Not authenticated",
    403: "Not permitted",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Request body over the size limit (body_too_large), refused before it is read",
    422: "Invalid input",
    429: "Too many requests of this kind from this address (rate_limited); retry after Retry-After seconds",
    502: "The engine refused the change, which did not happen (engine_refused)",
    503: "No live engine worker for the meeting (engine_unavailable)",
    504: "The engine did not acknowledge the change in time, which did not happen (engine_timeout)",
}

_SUCCESS = {200: "OK", 201: "Created"}

_ERROR_EXAMPLES = {
    307: {
        "code": "meeting_elsewhere",
        "message": "this meeting runs on another replica, https://podium-2.example",
        "owner_url": "https://podium-2.example",
    },
    400: {"code": "malformed_json", "message": "request body is not valid JSON in UTF-8"},
    401: {"code": "invalid_token", "message": "access token revoked"},
    403: {"code": "permission_required", "message": "this requires the permission 'Administrate rooms'"},
    404: {"code": "not_found", "message": "room 5f0c6a3e9d2b4c71a8e4f0b2c3d4e5f6 not found"},
    409: {"code": "conflict", "message": "the request conflicts with the current state"},
    413: {
        "code": "body_too_large",
        "message": "request body of 5500000 bytes is larger than 16384 bytes, the limit of requests without "
        "credentials",
    },
    422: {
        "code": "validation_failed",
        "message": "invalid body",
        "details": [{"field": "body.name", "message": "Field required", "type": "missing"}],
    },
    429: {"code": "rate_limited", "message": "too many sign-ins (at most 20 per minute); retry in 42 s"},
    502: {"code": "engine_refused", "message": "engine worker 'w1' refused: pause_producer 'p1': unknown_id"},
    503: {"code": "engine_unavailable", "message": "no engine worker is connected for this meeting"},
    504: {"code": "engine_timeout", "message": "engine worker 'w1' did not acknowledge within 5.0 s"},
}

Mode = Literal["validation", "serialization"]


def _models(endpoints: list[Endpoint]) -> list[tuple[type[BaseModel], Mode]]:
    wanted: list[tuple[type[BaseModel], Mode]] = [(ErrorOut, "serialization")]
    for e in endpoints:
        wanted += [(m, "validation") for m in (e.body, e.query, e.path_model) if m is not None]
        if e.response is not None:
            wanted.append((e.response, "serialization"))
    return list(dict.fromkeys(wanted))


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter is absent rather than null: drop the null branch of `T | None` and the null default."""
    schema = dict(schema)
    variants = schema.pop("anyOf", None)
    if variants is not None:
        kept = [v for v in variants if v != {"type": "null"}]
        if len(kept) == 1:
            schema = {**kept[0], **schema}
        else:
            schema["anyOf"] = kept
    if schema.get("default", 0) is None:
        del schema["default"]
    return schema


def _parameters(
    model: type[BaseModel] | None, where: str, schemas: dict[str, Any], refs: dict[Any, Any]
) -> list[dict[str, Any]]:
    if model is None:
        return []
    name = refs[(model, "validation")]["$ref"].rsplit("/", 1)[-1]
    spec = schemas[name]
    required = set(spec.get("required", ()))
    params = []
    for field, schema in spec["properties"].items():
        schema = _without_null(schema)
        param: dict[str, Any] = {
            "name": field,
            "in": where,
            "required": where == "path" or field in required,
            "schema": schema,
        }
        if "description" in schema:
            param["description"] = schema["description"]
        params.append(param)
    return params


def example(schema: dict[str, Any], schemas: dict[str, Any], name: str = "") -> Any:
    """An instance of a JSON Schema: the schema's own example where it has one (request bodies declare
    theirs), else one built from types, formats and field names, so that every response shows its shape."""
    if "examples" in schema:
        return schema["examples"][0]
    if "$ref" in schema:
        return example(schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas, name)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if schema.get("default") is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            variants = [v for v in schema[key] if v.get("type") != "null"]
            return example(variants[0], schemas, name) if variants else None
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {field: example(sub, schemas, field) for field, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(schema.get("items", {}), schemas, name)]
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return False
    if kind == "string":
        return _string_example(schema, name)
    return None


def _string_example(schema: dict[str, Any], name: str) -> str:
    if schema.get("format") == "date-time" or name.endswith("_at"):
        return "2030-01-31T12:00:00Z"
    if name == "id" or name.endswith("_id"):
        return "5f0c6a3e9d2b4c71a8e4f0b2c3d4e5f6"
    if "email" in name:
        return "ada@example.com"
    if name.endswith("name"):
        return "Ada Lovelace"
    return name or "text"


def _content(model: type[BaseModel], mode: Mode, refs: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": refs[(model, mode)], "example": example(refs[(model, mode)], schemas)}}


def _operation(e: Endpoint, schemas: dict[str, Any], refs: dict[Any, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": e.operation_id, "summary": e.summary, "tags": [e.tag]}
    if e.description:
        op["description"] = e.description
    params = _parameters(e.path_model, "path", schemas, refs) + _parameters(e.query, "query", schemas, refs)
    if e.path_model is None:
        params += [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in _path_names(e.path)
        ]
    if params:
        op["parameters"] = params
    if e.body is not None:
        op["requestBody"] = {"required": True, "content": _content(e.body, "validation", refs, schemas)}
    responses: dict[str, Any] = {}
    if e.status == 204:
        responses["204"] = {"description": "Done"}
    elif e.response is not None:
        responses[str(e.status)] = {
            "description": _SUCCESS[e.status],
            "content": _content(e.response, "serialization", refs, schemas),
        }
        responses[str(e.status)]["content"].update(
            {t: {"schema": {"type": "string"}} for t in e.alternative_media_types}
        )
    else:
        responses[str(e.status)] = {
            "description": _SUCCESS[e.status],
            "content": {e.media_type: {"schema": {"type": "string"}}},
        }
    errors = set(e.errors)
    if e.authenticated:
        errors.add(401)
    if e.body is not None:
        errors |= {400, 413, 422}
    if e.rate_limit is not None:
        errors.add(429)
    if e.query is not None:
        errors.add(422)
    if e.path_model is not None:
        errors.add(404)
    for status in sorted(errors):
        content = _content(ErrorOut, "serialization", refs, schemas)
        content["application/json"]["example"] = {"error": _ERROR_EXAMPLES[status]}
        responses[str(status)] = {"description": _REASONS[status], "content": content}
        if status == 307:
            responses[str(status)]["headers"] = {
                "Location": {
                    "description": "the same request on the replica that runs the meeting",
                    "required": True,
                    "schema": {"type": "string"},
                }
            }
        if status == 429:
            responses[str(status)]["headers"] = {
                "Retry-After": {
                    "description": "whole seconds until a request of this kind is allowed again",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                }
            }
    op["responses"] = responses
    if not e.authenticated:
        op["security"] = []
    return op


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]


def document(endpoints: list[Endpoint], *, title: str = "Podium control plane", version: str = "1") -> dict[str, Any]:
    refs, defs = models_json_schema(_models(endpoints), ref_template=REF)
    schemas = defs.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        paths.setdefault(API_PREFIX + e.path, {})[e.method.lower()] = _operation(e, schemas, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an access token from /auth/login, or an API key",
                }
            },
        },
        "security": [{"bearer": []}],
    }
