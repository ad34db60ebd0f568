"""`podium serve --webtransport-port --dev-certificate`: the server makes its own short-lived
certificate, serves WebTransport on it, and publishes the address and the certificate's hash at
`/signaling/transports`; the certificate a QUIC client is shown has exactly that hash."""

from __future__ import annotations

import asyncio
import hashlib
import json
import ssl
import urllib.request

import pytest
from aioquic.asyncio import QuicConnectionProtocol, connect
from aioquic.h3.connection import H3_ALPN
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import QuicEvent, StreamDataReceived
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from harness import loopback_only
from podium_client import PodiumServer, free_port

pytestmark = pytest.mark.timeout(60)


class _Handshake(QuicConnectionProtocol):
    """A QUIC client that only shakes hands (it leaves the server's HTTP/3 streams unread)."""

    def quic_event_received(self, event: QuicEvent) -> None:
        if not isinstance(event, StreamDataReceived):
            super().quic_event_received(event)


async def test_dev_certificate_published_and_served(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    wt_port = free_port()
    podium = PodiumServer.start(tmp_path / "podium", options=("--webtransport-port", str(wt_port), "--dev-certificate"))
    try:
        with urllib.request.urlopen(f"{podium.url}/signaling/transports") as response:
            offered = json.loads(response.read())
        assert offered["websocket"] == "/signaling/v1"
        assert offered["webtransport"]["url"] == f"https://127.0.0.1:{wt_port}/signaling/v1"
        [published] = offered["webtransport"]["certificate_hashes"]

        configuration = QuicConfiguration(alpn_protocols=H3_ALPN, is_client=True, verify_mode=ssl.CERT_NONE)
        async with connect("127.0.0.1", wt_port, configuration=configuration, create_protocol=_Handshake) as client:
            await asyncio.wait_for(client.ping(), 10)
            der = client._quic.tls._peer_certificate.public_bytes(Encoding.DER)  # what a browser would hash
        assert hashlib.sha256(der).hexdigest() == published
        certificate = x509.load_der_x509_certificate(der)
        assert (certificate.not_valid_after_utc - certificate.not_valid_before_utc).days <= 14
    finally:
        podium.stop()


async def test_no_webtransport_offered_without_it(tmp_path, monkeypatch) -> None:
    loopback_only(monkeypatch)
    podium = PodiumServer.start(tmp_path / "podium")
    try:
        with urllib.request.urlopen(f"{podium.url}/signaling/transports") as response:
            assert json.loads(response.read()) == {"websocket": "/signaling/v1", "webtransport": None}
    finally:
        podium.stop()
