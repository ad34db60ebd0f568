"""A development certificate for WebTransport: self-signed, ECDSA P-256, valid for 13 days, so that
Chromium accepts it by its hash (`serverCertificateHashes`) without any certificate authority; Chromium
refuses such a certificate if it is valid for longer than 14 days or has another key type.

`podium serve --webtransport-port PORT --dev-certificate` makes a new one at each start and publishes its
SHA-256 hash with the WebTransport address (docs/signaling.md, "WebTransport")."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALIDITY = datetime.timedelta(days=13)
"""Under Chromium's 14 days, with a day to spare for clocks that disagree."""


@dataclass(frozen=True)
class DevCertificate:
    cert: Path
    key: Path
    sha256: str
    """The hex SHA-256 digest of the certificate's DER encoding: what serverCertificateHashes names."""


def make(directory: Path, hosts: list[str], now: datetime.datetime | None = None) -> DevCertificate:
    """Write a new certificate and key (PEM) for `hosts` (names or addresses) into `directory`."""
    now = now or datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Podium development certificate")])
    alternatives: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alternatives.append(x509.DNSName(host))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now - datetime.timedelta(minutes=5) + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "webtransport-dev-cert.pem", directory / "webtransport-dev-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return DevCertificate(cert_path, key_path, sha256_of(cert_path))


def sha256_of(cert: Path) -> str:
    """The hex SHA-256 digest of a PEM certificate's DER encoding."""
    der = x509.load_pem_x509_certificate(cert.read_bytes()).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()
