"""Fixtures of the SDP tests."""

import aioice.ice
import pytest


@pytest.fixture
def loopback_only(monkeypatch):
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])
