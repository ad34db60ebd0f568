"""The OpenAPI description: generated from the endpoint table, complete and self-consistent."""

import json

from starlette.routing import Route

from control.api import ENDPOINTS, routes
from control.api.openapi import _without_null, document

V1 = "/api/v1"


def refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


async def test_served_at_openapi_json_without_authentication(client):
    response = await client.get(f"{V1}/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"] == "3.1.0" and spec["security"] == [{"bearer": []}]
    assert spec == json.loads(json.dumps(document(ENDPOINTS)))


def test_every_route_is_described_and_every_operation_routed():
    spec = document(ENDPOINTS)
    described = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    routed = {(r.path, m) for r in routes() if isinstance(r, Route) for m in (r.methods or ()) if m != "HEAD"}
    assert described == routed - {(f"{V1}/openapi.json", "GET")}
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)) == len(ENDPOINTS)


def test_every_reference_resolves():
    spec = document(ENDPOINTS)
    schemas = spec["components"]["schemas"]
    for ref in set(refs(spec)):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref


def test_errors_and_security_are_described():
    spec = document(ENDPOINTS)
    login = spec["paths"][f"{V1}/auth/login"]["post"]
    assert login["security"] == [] and set(login["responses"]) == {"200", "400", "401", "413", "422", "429"}
    grant = spec["paths"][f"{V1}/users/{{user_id}}/permissions/{{permission}}"]["put"]
    assert {"401", "403", "404"} <= set(grant["responses"])
    params = {p["name"]: p for p in grant["parameters"]}
    assert params["permission"]["in"] == "path" and params["permission"]["required"]
    assert params["user_id"]["schema"]["pattern"] == "^[0-9a-f]{32}$"
    error = spec["components"]["schemas"]["ErrorOut"]
    assert error["required"] == ["error"]


def test_query_parameters_are_optional_and_never_null():
    spec = document(ENDPOINTS)
    for name in ("offset", "limit", "pending", "q"):
        param = next(p for p in spec["paths"][f"{V1}/users"]["get"]["parameters"] if p["name"] == name)
        assert param["in"] == "query" and not param["required"] and "anyOf" not in param["schema"]


def test_without_null():
    assert _without_null({"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None, "title": "N"}) == {
        "type": "integer",
        "title": "N",
    }
    assert _without_null({"type": "string"}) == {"type": "string"}


def test_every_operation_has_a_summary_a_description_and_examples():
    spec = document(ENDPOINTS)
    schemas = spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            assert op["summary"] and len(op["summary"]) <= 80, where
            assert op["description"] and op["description"] != op["summary"], where
            if "requestBody" in op:
                content = op["requestBody"]["content"]["application/json"]
                name = content["schema"]["$ref"].rsplit("/", 1)[-1]
                assert schemas[name].get("examples"), f"{where}: the body model declares no example"
                assert content["example"] == schemas[name]["examples"][0], where
            for status, response in op["responses"].items():
                if "application/json" in response.get("content", {}):
                    assert response["content"]["application/json"].get("example") is not None, f"{where} {status}"


def test_request_examples_are_valid_bodies():
    for e in ENDPOINTS:
        if e.body is not None:
            schema = e.body.model_json_schema()
            for instance in schema["examples"]:
                e.body.model_validate_json(json.dumps(instance))  # strict, as requests are


def test_response_examples_fit_their_models():
    spec = document(ENDPOINTS)
    for e in ENDPOINTS:
        if e.response is not None:
            op = spec["paths"][V1 + e.path][e.method.lower()]
            e.response.model_validate(op["responses"][str(e.status)]["content"]["application/json"]["example"])
