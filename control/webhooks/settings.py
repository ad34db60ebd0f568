"""The operator's choices for webhook deliveries."""

from dataclasses import dataclass, field

from control.domain.webhooks import Retry


@dataclass(frozen=True)
class WebhookSettings:
    allow_private: bool = False
    """Deliver to loopback, private and link-local addresses too (`podium serve --webhooks-allow-private`):
    only where every add-in's URL is trusted, as such a URL reaches the operator's own network."""
    retry: Retry = field(default_factory=Retry)
    """The backoff (`podium serve --webhook-retry-base SECONDS`)."""
    timeout: float = 10.0
    """Seconds one attempt may take (connect, send, answer)."""
    concurrency: int = 8
    """Deliveries sent at once."""
