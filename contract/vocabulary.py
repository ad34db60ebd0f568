"""Words both ends of the engine channel use: media kinds and the tiers of the forwarding table."""

from __future__ import annotations

KINDS = ("audio", "video")
"""Media kinds a producer (and so its consumers) can have."""

# object types of the table, in dependency order: a parent is always of an earlier tier
ROUTER, TRANSPORT, PRODUCER, CONSUMER = "router", "transport", "producer", "consumer"
TIERS = (ROUTER, TRANSPORT, PRODUCER, CONSUMER)
