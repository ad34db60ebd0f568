"""Microbenchmark: SRTP protect / unprotect of the fast path, per profile, beside pylibsrtp's Session.

One round handles PACKETS packets of a 1200-byte video payload; divide by PACKETS for the cost of one.
The fast path runs its loop in C (protect_many) or with one short Python step per packet
(unprotect_many); pylibsrtp, the baseline measured in the same run, makes one Python call per packet.
Run with `pytest tests/engine/test_micro_srtp.py --benchmark-enable`; the suite runs it once, disabled,
as a correctness check.
"""

import os
import struct

import pytest
from pylibsrtp import Policy, Session

from engine import _testing

GCM = Policy.SRTP_PROFILE_AEAD_AES_128_GCM
CM_80 = Policy.SRTP_PROFILE_AES128_CM_SHA1_80
CM_32 = Policy.SRTP_PROFILE_AES128_CM_SHA1_32
KEY_SALT_LENGTH = {GCM: 16 + 12, CM_80: 16 + 14, CM_32: 16 + 14}
PACKETS = 1000
PAYLOAD = os.urandom(1200)
PROFILES = pytest.mark.parametrize("profile", [GCM, CM_80, CM_32], ids=["gcm", "cm80", "cm32"])
ROUNDS = 20


def rtp_packet(sequence, payload):
    return struct.pack("!BBHII", 0x80, 96, sequence, sequence * 3000, 0x11223344) + payload


def _ours(profile, key):
    return _testing.SrtpSession(profile, key, key)


def _reference(profile, key, ssrc_type):
    return Session(Policy(key=key, ssrc_type=ssrc_type, srtp_profile=profile))


@PROFILES
@pytest.mark.parametrize("implementation", ["podium", "pylibsrtp"])
def test_protect(benchmark, profile, implementation):
    key = os.urandom(KEY_SALT_LENGTH[profile])
    template = rtp_packet(1, payload=PAYLOAD)
    packets = [rtp_packet(sequence, payload=PAYLOAD) for sequence in range(1, PACKETS + 1)]

    if implementation == "podium":

        def setup():
            return (_ours(profile, key),), {}

        def protect(session):
            return session.protect_many(template, PACKETS)
    else:

        def setup():
            return (_reference(profile, key, Policy.SSRC_ANY_OUTBOUND),), {}

        def protect(session):
            for packet in packets:
                session.protect(packet)
            return PACKETS

    assert benchmark.pedantic(protect, setup=setup, rounds=ROUNDS) == PACKETS


@PROFILES
@pytest.mark.parametrize("implementation", ["podium", "pylibsrtp"])
def test_unprotect(benchmark, profile, implementation):
    key = os.urandom(KEY_SALT_LENGTH[profile])
    sender = _reference(profile, key, Policy.SSRC_ANY_OUTBOUND)
    protected = [sender.protect(rtp_packet(sequence, payload=PAYLOAD)) for sequence in range(1, PACKETS + 1)]

    if implementation == "podium":

        def setup():  # a fresh context per round: the replay window starts empty
            return (_ours(profile, key),), {}

        def unprotect(session):
            return session.unprotect_many(protected)
    else:

        def setup():
            return (_reference(profile, key, Policy.SSRC_ANY_INBOUND),), {}

        def unprotect(session):
            for packet in protected:
                session.unprotect(packet)
            return PACKETS

    assert benchmark.pedantic(unprotect, setup=setup, rounds=ROUNDS) == PACKETS
