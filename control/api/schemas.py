"""Input types and envelopes shared by the resource modules."""

import re
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

T = TypeVar("T")

Id = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
"""Identifiers are 32 lowercase hex digits."""
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
]
"""One line of printable text."""
Text = Annotated[str, StringConstraints(max_length=20000, pattern=r"^[^\x00]*$")]
"""Free text, newlines allowed."""
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=254,
        pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$",
    ),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256, pattern=r"^[^\x00]+$")]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=512, pattern=r"^[A-Za-z0-9_\-]+$")]
"""An opaque token handed out by the API (refresh token, invitation)."""
Slug = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Search = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]


def example(**fields: Any) -> ConfigDict:
    """A model's example for the API description: `model_config = example(name="Board room")`."""
    return ConfigDict(json_schema_extra={"examples": [fields]})


class Input(BaseModel):
    """A request body, query or path: unknown fields are refused, and JSON types are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _iso_8601(value: object) -> object:
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
        raise ValueError("expected an ISO 8601 date and time with a time zone, e.g. 2030-01-31T12:00:00Z")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_8601)]
"""A point in time: ISO 8601 with a time zone (no Unix timestamps)."""


class PageQuery(Input):
    offset: int = Field(0, ge=0, le=1_000_000, description="items to skip")
    limit: int = Field(50, ge=1, le=200, description="items to return")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="items matching, over all pages")
    offset: int
    limit: int


class ErrorBody(BaseModel):
    code: str = Field(description="stable, machine-readable")
    message: str = Field(description="for people")
    details: list[dict[str, Any]] | None = None
    owner_url: str | None = Field(
        None, description="meeting_elsewhere (307): the base URL of the replica that runs the meeting"
    )


class ErrorOut(BaseModel):
    error: ErrorBody
