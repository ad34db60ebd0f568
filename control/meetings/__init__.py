"""Meetings: the live meeting registry, the service executing the meeting policy
(service.py), its commit pipeline (commit.py) and media reconciliation against the engine
(media.py)."""
