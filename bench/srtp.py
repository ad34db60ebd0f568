"""SRTP for the forwarding benchmarks: profiles, the fixed test keys, and the check that what the sink
received decrypts.

Keys are fixed and derived from a name, so the three processes of a row agree without exchanging
anything: the load generator protects with key_salt("publisher", 0, profile) (the engine's publisher
transport expects it as its remote key); the engine protects the copy for subscriber i with
key_salt("subscriber", i, profile) (that transport's local key), which is what check_samples decrypts
with. The directions nobody sends on get keys of their own ("engine-to-publisher",
"subscriber-to-engine") so no two sessions share one.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import pylibsrtp

SAMPLES_PER_SOCKET = 4
"""Datagrams the sink writes whole, the first ones of each socket (of its first 64 sockets)."""


@dataclass(frozen=True)
class Profile:
    name: str
    key_salt_length: int
    """master key ‖ master salt bytes (RFC 3711, RFC 7714)."""
    tag_length: int
    """bytes srtp_protect appends to an RTP packet."""


PROFILES = {
    pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM: Profile("AEAD_AES_128_GCM", 16 + 12, 16),
    pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80: Profile("AES_CM_128_HMAC_SHA1_80", 16 + 14, 10),
    pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32: Profile("AES_CM_128_HMAC_SHA1_32", 16 + 14, 4),
}
GCM = pylibsrtp.Policy.SRTP_PROFILE_AEAD_AES_128_GCM
SHA1_80 = pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80

_SAMPLE = struct.Struct(">HH")  # sink.c --dump record: socket index, length; then the datagram


def key_salt(role: str, index: int, profile: int) -> bytes:
    """The fixed master key ‖ master salt of one direction of one transport of the benchmark."""
    digest = hashlib.sha256(f"podium bench srtp {role} {index}".encode()).digest()
    return digest[: PROFILES[profile].key_salt_length]


def libsrtp_path() -> str:
    """The shared object that holds the libsrtp the engine uses: pylibsrtp's cffi extension, which
    exports srtp_init, srtp_create, srtp_protect ... (the load generator dlopens it)."""
    from pylibsrtp import _binding

    return _binding.__file__


def payload_byte(offset: int) -> int:
    """The load generator's payload: byte `offset` of every packet (bench/baseline/loadgen.c)."""
    return offset & 0xFF


def read_samples(path: Path) -> list[tuple[int, bytes]]:
    """The sink's --dump file: [(socket index, datagram)] in the order received."""
    data = path.read_bytes() if path.exists() else b""
    samples, offset = [], 0
    while offset + _SAMPLE.size <= len(data):
        index, length = _SAMPLE.unpack_from(data, offset)
        offset += _SAMPLE.size
        samples.append((index, data[offset : offset + length]))
        offset += length
    return samples


def check_samples(path: Path, profile: int, size: int) -> dict:
    """Unprotects the sink's samples with pylibsrtp, in order, one inbound session per subscriber
    socket under that subscriber's key, and checks each plaintext: `size` bytes of RTP version 2 with
    the load generator's payload. Returns counts: "samples", "decrypted", "plaintext_ok", "sockets",
    and "ok" (at least one sample, all of them decrypted with the expected plaintext)."""
    sessions: dict[int, pylibsrtp.Session] = {}
    decrypted = plaintext_ok = 0
    failures: list[str] = []
    samples = read_samples(path)
    expected_payload = bytes(payload_byte(j) for j in range(12, size))
    for index, datagram in samples:
        session = sessions.get(index)
        if session is None:
            policy = pylibsrtp.Policy(
                key=key_salt("subscriber", index, profile),
                ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND,
                srtp_profile=profile,
            )
            session = sessions[index] = pylibsrtp.Session(policy)
        try:
            plain = session.unprotect(datagram)
        except pylibsrtp.Error as error:
            failures.append(f"socket {index}: {error}")
            continue
        decrypted += 1
        # no CSRCs, no extension: the payload starts at byte 12, as the generator wrote it
        if len(plain) == size and plain[0] >> 6 == 2 and plain[12:] == expected_payload:
            plaintext_ok += 1
        else:
            failures.append(f"socket {index}: unexpected plaintext ({len(plain)} bytes)")
    return {
        "samples": len(samples),
        "sockets": len(sessions),
        "decrypted": decrypted,
        "plaintext_ok": plaintext_ok,
        "ok": bool(samples) and plaintext_ok == len(samples),
        **({"failures": failures[:5]} if failures else {}),
    }
