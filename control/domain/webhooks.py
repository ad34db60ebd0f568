"""Webhook deliveries as policy: the event types, the payload's shape, and when to try again.

Podium delivers to add-ins of kind `webhook` that hold a signing secret, following the Standard
Webhooks specification (https://www.standardwebhooks.com): one POST per (event, add-in), its
`webhook-id` fixed for every attempt, so a receiver drops a repeat by id. Pure: no I/O, no clock.
"""

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    MEETING_STARTED = "meeting.started"
    MEETING_ENDED = "meeting.ended"
    PARTICIPANT_JOINED = "participant.joined"
    PARTICIPANT_LEFT = "participant.left"
    MODERATION_ACTION = "moderation.action"
    FILE_UPLOADED = "file.uploaded"
    """A file shared in chat, or a conference material attached to a room."""
    RECORDING_READY = "recording.ready"
    """Reserved: Podium has no recorder yet, so nothing sends it."""


@dataclass(frozen=True)
class Retry:
    """The retry schedule: exponential backoff from `base`, capped at `cap`, at most `attempts` tries."""

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(hours=1)
    attempts: int = 12
    """Tries in all (the first included); then the delivery is given up as failed."""


def next_attempt(retry: Retry, attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed tries (1 after the first), or None: give up. The
    delay doubles each time: base, 2·base, 4·base, … up to the cap."""
    if attempts >= retry.attempts:
        return None
    delay: timedelta = min(retry.base * (2 ** (attempts - 1)), retry.cap)
    return now + delay


def delivered(status: int) -> bool:
    """A 2xx answer acknowledges a delivery (the specification's rule); anything else is retried."""
    return 200 <= status < 300


def payload(event: EventType, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The body the specification recommends: the event type, when it happened, and its data."""
    return {"type": event.value, "timestamp": at.isoformat().replace("+00:00", "Z"), "data": data}


def address_refusal(address: str, *, private_allowed: bool) -> str | None:
    """Why a receiver's resolved address may not be called, or None. Loopback, private, link-local and
    other non-global addresses reach the operator's own network; only an instance that allows them
    (`podium serve --webhooks-allow-private`) delivers there."""
    ip = ipaddress.ip_address(address)
    if ip.is_multicast or ip.is_unspecified:
        return f"{address} is not a unicast address"
    if not ip.is_global and not private_allowed:
        return f"{address} is not a public address (allowed only with --webhooks-allow-private)"
    return None
