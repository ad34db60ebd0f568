"""The WebTransport development certificate: what Chromium requires of one it trusts by hash (ECDSA
P-256, valid for at most 14 days), the hash it is published under, and the transports offer."""

from __future__ import annotations

import datetime
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key

from control import dev_certificate
from control.settings import WebTransportSettings
from control.transports import offer


def test_certificate_chromium_accepts_by_hash(tmp_path):
    now = datetime.datetime(2026, 12, 6, 12, tzinfo=datetime.UTC)
    made = dev_certificate.make(tmp_path, ["localhost", "127.0.0.1", "::1"], now=now)
    cert = x509.load_pem_x509_certificate(made.cert.read_bytes())
    key = load_pem_private_key(made.key.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
    assert cert.public_key() == key.public_key()
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime <= datetime.timedelta(days=14) and cert.not_valid_before_utc <= now < cert.not_valid_after_utc
    assert made.sha256 == hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    assert made.key.stat().st_mode & 0o077 == 0


def test_each_certificate_is_new(tmp_path):
    first = dev_certificate.make(tmp_path, ["localhost"])
    second = dev_certificate.make(tmp_path, ["localhost"])
    assert first.sha256 != second.sha256 and dev_certificate.sha256_of(second.cert) == second.sha256


def test_transports_offer(tmp_path):
    assert offer(None, "podium.test") == {"websocket": "/signaling/v1", "webtransport": None}
    trusted = WebTransportSettings("0.0.0.0", 4433, tmp_path / "c", tmp_path / "k")
    assert offer(trusted, "podium.test")["webtransport"] == {
        "url": "https://podium.test:4433/signaling/v1",
        "certificate_hashes": [],
    }
    dev = WebTransportSettings("::", 4433, tmp_path / "c", tmp_path / "k", certificate_sha256="ab" * 32)
    assert offer(dev, "::1")["webtransport"] == {
        "url": "https://[::1]:4433/signaling/v1",
        "certificate_hashes": ["ab" * 32],
    }
