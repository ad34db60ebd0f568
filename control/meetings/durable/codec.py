"""A typed JSON codec for the frozen records a live meeting is made of.

The records are dataclasses, enums, tuples, frozensets, mappings with enum keys and the contract's
operations; JSON has none of those. Each value is written with a small tag where JSON alone would
lose its type, and read back only into the classes registered here: a document from the database
never names a class to import, so a tampered row cannot make the control plane build anything else.
Operations are written in their wire form (`contract.ops`), the one the engine channel already
validates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Any

from contract.ops import Operation, parse_op
from control.domain.meeting_state import MeetingState, Participant, Removal, RoomFeatures
from control.domain.roles import Capability, Role, Source
from control.meetings.media_records import Peer, Publication, RecorderConsumer, RecorderFeed, Subscription
from control.meetings.sdp import CodecParameters, HeaderExtensionIds
from control.meetings.ssrc import SsrcAllocator

DATACLASSES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        MeetingState,
        RoomFeatures,
        Participant,
        Removal,
        Peer,
        Publication,
        Subscription,
        RecorderFeed,
        RecorderConsumer,
        CodecParameters,
        HeaderExtensionIds,
    )
}
ENUMS: dict[str, type[Enum]] = {cls.__name__: cls for cls in (Role, Source, Capability)}


class CodecError(ValueError):
    """A document that does not describe registered records."""


def encode(value: Any) -> Any:
    """`value` as JSON-ready data (dicts, lists, strings, numbers, booleans, None)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):  # before str: the policy enums are StrEnums
        name = type(value).__name__
        if name not in ENUMS:
            raise CodecError(f"enum {name} is not registered")
        return {"$e": name, "v": value.value}
    if isinstance(value, str):
        return value
    if isinstance(value, Operation):
        return {"$op": value.to_wire()}
    if isinstance(value, SsrcAllocator):
        return {"$ssrc": sorted(value.used)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if DATACLASSES.get(name) is not type(value):
            raise CodecError(f"dataclass {name} is not registered")
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$": name, **fields}
    if isinstance(value, tuple):
        return {"$t": [encode(v) for v in value]}
    if isinstance(value, frozenset | set):
        items = [encode(v) for v in value]
        items.sort(key=repr)  # one document per state, whatever the set's iteration order
        return {"$f" if isinstance(value, frozenset) else "$s": items}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        tag = "$m" if isinstance(value, MappingProxyType) else "$d"
        return {tag: [[encode(k), encode(v)] for k, v in value.items()]}
    raise CodecError(f"cannot encode {type(value).__name__}")


def decode(data: Any) -> Any:
    """The records `encode` wrote; CodecError for anything else."""
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        raise CodecError(f"unexpected {type(data).__name__}")
    try:
        return _decode_tagged(data)
    except (KeyError, TypeError, ValueError) as error:
        raise CodecError(f"malformed record: {error}") from None


def _decode_tagged(data: dict[str, Any]) -> Any:
    if "$" in data:
        cls = DATACLASSES.get(data["$"])
        if cls is None:
            raise CodecError(f"unknown record type {data['$']!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: decode(v) for k, v in data.items() if k != "$"}
        if not values.keys() <= names:
            raise CodecError(f"{data['$']} has no fields {sorted(values.keys() - names)}")
        return cls(**values)
    if "$e" in data:
        enum = ENUMS.get(data["$e"])
        if enum is None:
            raise CodecError(f"unknown enum {data['$e']!r}")
        return enum(data["v"])
    if "$op" in data:
        return parse_op(data["$op"])
    if "$ssrc" in data:
        return SsrcAllocator(frozenset(int(s) for s in data["$ssrc"]))
    if "$t" in data:
        return tuple(decode(v) for v in data["$t"])
    if "$f" in data:
        return frozenset(decode(v) for v in data["$f"])
    if "$s" in data:
        return {decode(v) for v in data["$s"]}
    if "$d" in data or "$m" in data:
        pairs = {decode(k): decode(v) for k, v in data.get("$d", data.get("$m"))}
        return MappingProxyType(pairs) if "$m" in data else pairs
    raise CodecError(f"untagged object with keys {sorted(data)[:5]}")
