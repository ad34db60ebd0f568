"""Webhook deliveries to add-ins (Standard Webhooks): `queue` writes what is owed into the database,
`dispatcher` sends it, signed, retrying with exponential backoff; `events` turns a meeting's committed
changes into queued events; `settings` holds the operator's choices. The policy is
`control.domain.webhooks`; the delivery log is `control.services.webhooks`."""
