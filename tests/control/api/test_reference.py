"""docs/control-api.md's endpoint reference: written from the OpenAPI description, and current."""

from control.api import ENDPOINTS, reference
from control.api.openapi import document

V1 = "/api/v1"


def test_every_operation_is_in_the_document():
    written = reference.DOC.read_text()
    for path, ops in document(ENDPOINTS)["paths"].items():
        for method in ops:
            assert f"`{method.upper()} {path.removeprefix(V1)}`" in written, f"{method.upper()} {path}"


def test_the_document_holds_what_the_description_gives():
    written = reference.DOC.read_text()
    assert reference.replaced(written, reference.current()) == written, "run: python -m control.api.reference"


def test_types_in_a_few_words():
    schemas = {"Role": {"enum": ["organizer", "moderator"], "type": "string"}, "Inner": {"type": "object"}}
    assert reference.type_of({"$ref": "#/components/schemas/Role"}, schemas) == '`"organizer"` | `"moderator"`'
    assert reference.type_of({"$ref": "#/components/schemas/Inner"}, schemas) == "object Inner"
    assert reference.type_of({"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}, schemas) == (
        "integer (≥ 1) or null"
    )
    assert (
        reference.type_of(
            {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-f]{32}$"}, "maxItems": 3}, schemas
        )
        == "array of string (id: 32 hex digits) (at most 3)"
    )
    assert reference.type_of({"type": "string", "format": "date-time"}, schemas) == "string (ISO 8601 date-time)"


def test_a_body_is_a_table_of_fields_and_an_example():
    spec = document(ENDPOINTS)
    text = reference.markdown(spec)
    login = text[text.index("#### `POST /auth/login`") : text.index("#### `POST /auth/refresh`")]
    assert "No credential." in login
    assert "| `company` | string (1–200 characters) | yes | the company's slug, or its name" in login
    assert '```json\n{"company": "acme"' in login
    assert "errors 400, 401, 413, 422, 429." in login
