"""SRTP/SRTCP of the fast path (engine/srtp.pxi) against pylibsrtp's Session as the reference.

Both sides run the same libsrtp, but ours is reached through raw C function pointers and our own
declarations of its structs: interoperating with pylibsrtp's independent cffi binding, in both
directions and for every profile, is what shows those declarations and calls are right.
"""

import ctypes
import gc
import os
import random
import struct

import pylibsrtp
import pytest
from pylibsrtp import Policy, Session
from pylibsrtp._binding import ffi, lib

from engine import _testing

C = _testing.srtp_constants()
DROP_NONE = C["DROP_NONE"]
DROP_SRTP_AUTH = C["DROP_SRTP_AUTH"]
DROP_OVERSIZE = C["DROP_OVERSIZE"]

GCM = Policy.SRTP_PROFILE_AEAD_AES_128_GCM
CM_80 = Policy.SRTP_PROFILE_AES128_CM_SHA1_80
CM_32 = Policy.SRTP_PROFILE_AES128_CM_SHA1_32
PROFILES = pytest.mark.parametrize("profile", [GCM, CM_80, CM_32], ids=["gcm", "cm80", "cm32"])
KEY_SALT_LENGTH = {GCM: 16 + 12, CM_80: 16 + 14, CM_32: 16 + 14}


def rtp_packet(sequence, ssrc=0x11223344, payload=b"\x90" * 160, timestamp=None, marker=0, extension=b"", csrcs=()):
    first = 0x80 | (0x10 if extension else 0) | len(csrcs)
    header = struct.pack(
        "!BBHII",
        first,
        (marker << 7) | 96,
        sequence & 0xFFFF,
        (sequence * 960 if timestamp is None else timestamp) & 0xFFFFFFFF,
        ssrc,
    )
    header += b"".join(struct.pack("!I", csrc) for csrc in csrcs)
    if extension:
        header += struct.pack("!HH", 0xBEDE, len(extension) // 4) + extension
    return header + payload


def rtcp_receiver_report(ssrc=0x5EED, media_ssrc=0x11223344, highest=1000):
    block = struct.pack("!IIIIII", media_ssrc, 0, highest, 0, 0, 0)
    return struct.pack("!BBHI", 0x81, 201, 7, ssrc) + block


def rtcp_compound(ssrc=0x5EED):
    sender_report = struct.pack("!BBHIIIIII", 0x80, 200, 6, ssrc, 0x01020304, 0x05060708, 1234, 10, 1000)
    sdes_chunk = struct.pack("!IBB", ssrc, 1, 6) + b"podium" + b"\x00\x00"
    sdes = struct.pack("!BBH", 0x81, 202, len(sdes_chunk) // 4) + sdes_chunk
    pli = struct.pack("!BBHII", 0x81, 206, 2, ssrc, 0x11223344)
    return sender_report + sdes + pli


class Pair:
    """Our context for a transport and, opposite it, the peer played by pylibsrtp."""

    def __init__(self, profile):
        self.local = os.urandom(KEY_SALT_LENGTH[profile])
        self.remote = os.urandom(KEY_SALT_LENGTH[profile])
        self.ours = _testing.SrtpSession(profile, self.local, self.remote)
        self.peer_tx = Session(Policy(key=self.remote, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
        self.peer_rx = Session(Policy(key=self.local, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile))


def flip(packet, index):
    data = bytearray(packet)
    data[index] ^= 0x01
    return bytes(data)


# --- the ABI we bind to ------------------------------------------------------------------------------


def _mapped_ranges(path):
    with open("/proc/self/maps") as maps:
        for line in maps:
            if line.rstrip().endswith(path):
                start, end = line.split()[0].split("-")
                yield int(start, 16), int(end, 16)


def test_bundled_libsrtp_is_2x_and_is_the_code_we_call():
    path = os.path.realpath(pylibsrtp._binding.__file__)
    library = ctypes.CDLL(path)
    library.srtp_get_version_string.restype = ctypes.c_char_p
    library.srtp_get_version.restype = ctypes.c_uint
    assert library.srtp_get_version_string().startswith(b"libsrtp2 2.")  # 2.x: int* lengths, in place
    assert library.srtp_get_version() >> 24 == 2
    # cffi hands out its direct-call stubs (_cffi_d_srtp_protect, ...), which jump to libsrtp's
    # functions in the same extension: the pointers we store lie in pylibsrtp's binary.
    ranges = list(_mapped_ranges(path))
    for name in (
        "srtp_protect",
        "srtp_unprotect",
        "srtp_protect_rtcp",
        "srtp_unprotect_rtcp",
        "srtp_create",
        "srtp_dealloc",
        "srtp_remove_stream",
        "srtp_crypto_policy_set_from_profile_for_rtp",
    ):
        address = int(ffi.cast("uintptr_t", ffi.addressof(lib, name)))
        assert any(start <= address < end for start, end in ranges), name


@pytest.mark.parametrize(("profile", "rtp_trailer", "rtcp_trailer"), [(GCM, 16, 20), (CM_80, 10, 14), (CM_32, 4, 14)])
def test_trailer_lengths_follow_the_profile(profile, rtp_trailer, rtcp_trailer):
    pair = Pair(profile)
    assert (pair.ours.profile, pair.ours.rtp_trailer, pair.ours.rtcp_trailer) == (profile, rtp_trailer, rtcp_trailer)
    assert rtp_trailer <= C["SRTP_TRAILER_ROOM"] and rtcp_trailer <= C["SRTCP_TRAILER_ROOM"]
    packet = rtp_packet(1)
    assert len(pair.ours.protect(packet)[1]) == len(packet) + rtp_trailer
    assert len(pair.ours.protect_rtcp(rtcp_compound())[1]) == len(rtcp_compound()) + rtcp_trailer


def test_unsupported_profile_and_bad_key_lengths_are_refused():
    with pytest.raises(ValueError, match="unsupported SRTP profile 8"):
        _testing.SrtpSession(Policy.SRTP_PROFILE_AEAD_AES_256_GCM, bytes(44), bytes(44))
    with pytest.raises(ValueError, match="unsupported SRTP profile 0"):
        _testing.SrtpSession(0, bytes(30), bytes(30))
    with pytest.raises(ValueError, match="must be 28 bytes for profile 7"):
        _testing.SrtpSession(GCM, bytes(30), bytes(28))
    with pytest.raises(ValueError, match="must be 30 bytes for profile 1"):
        _testing.SrtpSession(CM_80, bytes(30), bytes(16))


# --- interoperation with the reference -------------------------------------------------------------


@PROFILES
def test_rtp_from_reference_unprotects(profile):
    pair = Pair(profile)
    packets = [
        rtp_packet(1),
        rtp_packet(2, marker=1, payload=os.urandom(1100)),
        rtp_packet(3, extension=b"\x10\xff\x22\x01\x02\x00\x00\x00", csrcs=(7, 8)),
        rtp_packet(4, payload=b""),
    ]
    for packet in packets:
        drop, plain = pair.ours.unprotect(pair.peer_tx.protect(packet))
        assert (drop, plain) == (DROP_NONE, packet)


@PROFILES
def test_rtp_we_protect_unprotects_in_reference(profile):
    pair = Pair(profile)
    for sequence in range(65530, 65536 + 10):  # across a rollover of the sequence number
        packet = rtp_packet(sequence, payload=os.urandom(sequence % 1200))
        drop, protected = pair.ours.protect(packet)
        assert drop == DROP_NONE
        assert protected != packet + protected[len(packet) :]  # the payload is encrypted
        assert pair.peer_rx.unprotect(protected) == packet


@PROFILES
def test_rtcp_both_ways(profile):
    pair = Pair(profile)
    for packet in (rtcp_receiver_report(), rtcp_compound()):
        drop, protected = pair.ours.protect_rtcp(packet)
        assert drop == DROP_NONE
        assert pair.peer_rx.unprotect_rtcp(protected) == packet
        assert pair.ours.unprotect_rtcp(pair.peer_tx.protect_rtcp(packet)) == (DROP_NONE, packet)


@PROFILES
def test_many_ssrcs_on_one_context(profile):
    pair = Pair(profile)
    ssrcs = [0x1000 + 7919 * index for index in range(64)]
    for sequence in range(5):
        for ssrc in ssrcs:  # interleaved, as on a busy transport
            packet = rtp_packet(100 + sequence, ssrc=ssrc, payload=struct.pack("!I", ssrc) * 40)
            assert pair.ours.unprotect(pair.peer_tx.protect(packet)) == (DROP_NONE, packet)
            drop, protected = pair.ours.protect(packet)
            assert drop == DROP_NONE
            assert pair.peer_rx.unprotect(protected) == packet
        for ssrc in ssrcs:
            report = rtcp_receiver_report(ssrc=ssrc)
            assert pair.ours.unprotect_rtcp(pair.peer_tx.protect_rtcp(report)) == (DROP_NONE, report)


# --- what must be dropped --------------------------------------------------------------------------


@PROFILES
def test_tampered_packet_is_dropped_and_context_survives(profile):
    pair = Pair(profile)
    protected = pair.peer_tx.protect(rtp_packet(10))
    for index in (1, 2, 8, 12, 40, len(protected) - 1):  # header, payload and tag bytes
        assert pair.ours.unprotect(flip(protected, index)) == (DROP_SRTP_AUTH, None)
    assert pair.ours.unprotect(protected[:-1]) == (DROP_SRTP_AUTH, None)  # tag cut short
    assert pair.ours.unprotect(protected + b"\x00") == (DROP_SRTP_AUTH, None)  # byte appended
    assert pair.ours.unprotect(protected) == (DROP_NONE, rtp_packet(10))


@PROFILES
def test_tampered_rtcp_is_dropped(profile):
    pair = Pair(profile)
    protected = pair.peer_tx.protect_rtcp(rtcp_compound())
    for index in (1, 4, 20, len(protected) - 5, len(protected) - 1):
        assert pair.ours.unprotect_rtcp(flip(protected, index)) == (DROP_SRTP_AUTH, None)
    assert pair.ours.unprotect_rtcp(protected) == (DROP_NONE, rtcp_compound())


@PROFILES
def test_replayed_packet_is_dropped(profile):
    pair = Pair(profile)
    first, second = pair.peer_tx.protect(rtp_packet(1)), pair.peer_tx.protect(rtp_packet(2))
    assert pair.ours.unprotect(second)[0] == DROP_NONE
    assert pair.ours.unprotect(first)[0] == DROP_NONE  # late but new: accepted
    assert pair.ours.unprotect(second) == (DROP_SRTP_AUTH, None)
    assert pair.ours.unprotect(first) == (DROP_SRTP_AUTH, None)


@PROFILES
def test_replay_window_is_1024_packets(profile):
    pair = Pair(profile)
    protected = {sequence: pair.peer_tx.protect(rtp_packet(sequence)) for sequence in range(1, 3001)}
    assert pair.ours.unprotect(protected[3000])[0] == DROP_NONE
    assert pair.ours.unprotect(protected[3000 - 500])[0] == DROP_NONE  # beyond libsrtp's default 128
    assert pair.ours.unprotect(protected[3000 - 1023])[0] == DROP_NONE
    assert pair.ours.unprotect(protected[3000 - 1500]) == (DROP_SRTP_AUTH, None)  # too old


@PROFILES
def test_replayed_rtcp_is_dropped(profile):
    pair = Pair(profile)
    protected = pair.peer_tx.protect_rtcp(rtcp_receiver_report())
    assert pair.ours.unprotect_rtcp(protected)[0] == DROP_NONE
    assert pair.ours.unprotect_rtcp(protected) == (DROP_SRTP_AUTH, None)


@PROFILES
def test_wrong_key_is_dropped(profile):
    pair = Pair(profile)
    stranger = Session(
        Policy(key=os.urandom(KEY_SALT_LENGTH[profile]), ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile)
    )
    assert pair.ours.unprotect(stranger.protect(rtp_packet(1))) == (DROP_SRTP_AUTH, None)
    assert pair.ours.unprotect_rtcp(stranger.protect_rtcp(rtcp_compound())) == (DROP_SRTP_AUTH, None)
    # Our own outbound key is not the inbound key: a reflected packet does not pass either.
    assert pair.ours.unprotect(pair.ours.protect(rtp_packet(2))[1]) == (DROP_SRTP_AUTH, None)
    # The real peer still gets through after the failures.
    assert pair.ours.unprotect(pair.peer_tx.protect(rtp_packet(3)))[0] == DROP_NONE


def test_profile_mismatch_is_dropped():
    pair = Pair(CM_80)
    other = Session(Policy(key=pair.remote, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=CM_32))
    assert pair.ours.unprotect(other.protect(rtp_packet(1))) == (DROP_SRTP_AUTH, None)


@PROFILES
@pytest.mark.parametrize(
    "garbage", [b"", b"\x80", b"\x80\x60\x00\x01", bytes(11), bytes(12), b"\x80" * 40, b"\x8f" + bytes(30)]
)
def test_malformed_input_is_dropped(profile, garbage):
    pair = Pair(profile)
    assert pair.ours.unprotect(garbage) == (DROP_SRTP_AUTH, None)
    assert pair.ours.unprotect_rtcp(garbage) == (DROP_SRTP_AUTH, None)


@PROFILES
def test_random_and_mutated_datagrams_never_pass(profile):
    pair = Pair(profile)
    generator = random.Random(profile)
    valid = [pair.peer_tx.protect(rtp_packet(sequence, payload=os.urandom(sequence * 7))) for sequence in range(1, 60)]
    valid_rtcp = pair.peer_tx.protect_rtcp(rtcp_compound())
    for _ in range(3000):
        garbage = generator.randbytes(generator.randrange(0, 1500))
        assert pair.ours.unprotect(garbage) == (DROP_SRTP_AUTH, None)
        assert pair.ours.unprotect_rtcp(garbage) == (DROP_SRTP_AUTH, None)
        packet = bytearray(generator.choice(valid + [valid_rtcp]))
        for index in generator.sample(range(len(packet)), generator.randrange(1, 4)):  # distinct bytes
            packet[index] ^= 1 << generator.randrange(8)
        assert pair.ours.unprotect(bytes(packet)) == (DROP_SRTP_AUTH, None)
        assert pair.ours.unprotect_rtcp(bytes(packet)) == (DROP_SRTP_AUTH, None)
    for sequence, packet in enumerate(valid, start=1):  # none of that disturbed the real streams
        assert pair.ours.unprotect(packet)[0] == DROP_NONE, sequence
    assert pair.ours.unprotect_rtcp(valid_rtcp)[0] == DROP_NONE


@PROFILES
def test_protect_refuses_what_it_cannot_hold(profile):
    pair = Pair(profile)
    packet, report = rtp_packet(1), rtcp_compound()
    assert pair.ours.protect(packet, capacity=len(packet) + pair.ours.rtp_trailer - 1) == (DROP_OVERSIZE, None)
    assert pair.ours.protect_rtcp(report, capacity=len(report) + pair.ours.rtcp_trailer - 1) == (DROP_OVERSIZE, None)
    drop, protected = pair.ours.protect(packet, capacity=len(packet) + pair.ours.rtp_trailer)
    assert drop == DROP_NONE and pair.peer_rx.unprotect(protected) == packet
    drop, protected = pair.ours.protect_rtcp(report, capacity=len(report) + pair.ours.rtcp_trailer)
    assert drop == DROP_NONE and pair.peer_rx.unprotect_rtcp(protected) == report
    assert pair.ours.protect(bytes(5))[0] == DROP_SRTP_AUTH  # not an RTP header


@PROFILES
def test_transport_hook_entry_points(profile):
    """srtp_transport_protect / _unprotect: the crypto_fn pair a Transport stores."""
    pair = Pair(profile)
    packet, report = rtp_packet(5), rtcp_compound()
    assert pair.ours.hook_unprotect(pair.peer_tx.protect(packet)) == (DROP_NONE, packet)
    assert pair.ours.hook_unprotect(pair.peer_tx.protect_rtcp(report), rtcp=True) == (DROP_NONE, report)
    drop, protected = pair.ours.hook_protect(packet)
    assert drop == DROP_NONE and pair.peer_rx.unprotect(protected) == packet
    drop, protected = pair.ours.hook_protect(report, rtcp=True)
    assert drop == DROP_NONE and pair.peer_rx.unprotect_rtcp(protected) == report
    longest = rtp_packet(6, payload=os.urandom(C["MAX_DATAGRAM"] - 12))  # a full datagram still fits
    drop, protected = pair.ours.hook_protect(longest)
    assert drop == DROP_NONE and len(protected) == len(longest) + pair.ours.rtp_trailer
    near_longest = rtp_packet(7, payload=os.urandom(C["MAX_DATAGRAM"] - 12 - 16))  # pylibsrtp holds 1500
    drop, protected = pair.ours.hook_protect(near_longest)
    assert drop == DROP_NONE and pair.peer_rx.unprotect(protected) == near_longest
    assert pair.ours.hook_unprotect(flip(pair.peer_tx.protect(rtp_packet(8)), 30)) == (DROP_SRTP_AUTH, None)
    pair.ours.close()  # a NULL Transport.crypto drops
    assert pair.ours.hook_protect(packet) == (DROP_SRTP_AUTH, None)
    assert pair.ours.hook_unprotect(pair.peer_tx.protect(rtp_packet(9)), rtcp=False) == (DROP_SRTP_AUTH, None)


# --- outbound behaviour ------------------------------------------------------------------------------


@PROFILES
def test_retransmission_is_protected_again_identically(profile):
    pair = Pair(profile)
    packet = rtp_packet(42)
    first = pair.ours.protect(packet)
    assert pair.ours.protect(rtp_packet(43))[0] == DROP_NONE
    assert pair.ours.protect(packet) == first  # same index, same keystream, same tag
    assert pair.peer_rx.unprotect(first[1]) == packet


@PROFILES
def test_packets_the_repair_cache_holds_are_protected_again(profile):
    # a NACK answered without RTX sends a cached packet again under its own index: the outbound
    # window reaches as far back as the cache (CACHE_SLOTS packets of a producer), not further
    assert C["SRTP_RESEND_WINDOW"] >= C["CACHE_SLOTS"]
    pair = Pair(profile)
    window = C["SRTP_RESEND_WINDOW"]
    newest = 3000
    sent = {sequence: pair.ours.protect(rtp_packet(sequence)) for sequence in range(1, newest + 1)}
    for sequence in (newest, newest - 1, newest - C["CACHE_SLOTS"] + 1, newest - window + 1):
        again = pair.ours.protect(rtp_packet(sequence))
        assert again == sent[sequence], sequence  # same index, same keystream, same tag
    # they decrypt at the peer (in order: its replay window is libsrtp's default 128)
    for sequence in sorted({newest - window + 1, newest - C["CACHE_SLOTS"] + 1, newest}):
        assert pair.peer_rx.unprotect(sent[sequence][1]) == rtp_packet(sequence)
    assert pair.ours.protect(rtp_packet(newest - window - 500)) == (DROP_SRTP_AUTH, None)  # older: refused
    assert pair.ours.protect(rtp_packet(newest + 1))[0] == DROP_NONE  # and the stream goes on


@PROFILES
def test_removed_ssrc_starts_over(profile):
    pair = Pair(profile)
    protected = pair.peer_tx.protect(rtp_packet(7, ssrc=99))
    assert pair.ours.unprotect(protected)[0] == DROP_NONE
    assert pair.ours.unprotect(protected)[0] == DROP_SRTP_AUTH
    pair.ours.remove_ssrc(99)
    pair.ours.remove_ssrc(12345)  # unknown: ignored
    assert pair.ours.unprotect(protected)[0] == DROP_NONE  # its replay state went with it


# --- resources ---------------------------------------------------------------------------------------


def test_closed_context_drops_everything():
    pair = Pair(GCM)
    pair.ours.close()
    pair.ours.close()  # twice is harmless
    assert pair.ours.profile == 0
    assert pair.ours.protect(rtp_packet(1)) == (DROP_SRTP_AUTH, None)
    assert pair.ours.unprotect(pair.peer_tx.protect(rtp_packet(1))) == (DROP_SRTP_AUTH, None)
    assert pair.ours.protect_rtcp(rtcp_compound()) == (DROP_SRTP_AUTH, None)
    assert pair.ours.unprotect_rtcp(pair.peer_tx.protect_rtcp(rtcp_compound())) == (DROP_SRTP_AUTH, None)


def _resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_contexts_are_freed():
    gc.collect()
    baseline = _testing.srtp_resource_counts()
    sessions = [
        _testing.SrtpSession(profile, bytes(KEY_SALT_LENGTH[profile]), bytes(KEY_SALT_LENGTH[profile]))
        for profile in (GCM, CM_80, CM_32) * 100
    ]
    assert _testing.srtp_resource_counts() == {name: count + 300 for name, count in baseline.items()}
    for session in sessions[::2]:
        session.close()
    assert _testing.srtp_resource_counts() == {name: count + 150 for name, count in baseline.items()}
    del sessions, session
    gc.collect()
    assert _testing.srtp_resource_counts() == baseline


def test_refused_context_holds_nothing():
    baseline = _testing.srtp_resource_counts()
    for profile, length in ((8, 44), (GCM, 30), (0, 30)):
        with pytest.raises(ValueError):
            _testing.SrtpSession(profile, bytes(length), bytes(length))
    assert _testing.srtp_resource_counts() == baseline


def test_creating_and_freeing_contexts_does_not_grow_memory():
    def churn(rounds):
        for index in range(rounds):
            session = _testing.SrtpSession(
                GCM if index % 2 else CM_80, bytes(30)[: 28 if index % 2 else 30], bytes(30)[: 28 if index % 2 else 30]
            )
            for ssrc in range(4):  # streams cloned per SSRC are freed too
                session.protect(rtp_packet(1, ssrc=ssrc))
            session.close()

    churn(2000)  # allocator and OpenSSL caches warm up
    before = _resident_bytes()
    churn(20000)  # ~ 20000 x 2 sessions x 6 streams if leaked
    assert _resident_bytes() - before < 8 * 1024 * 1024
