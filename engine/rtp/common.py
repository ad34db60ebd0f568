"""RFC constants and errors shared by the reference RTP and RTCP parsers."""

from __future__ import annotations

# RFC 3550
RTP_VERSION = 2
RTP_HEADER_SIZE = 12
RTCP_HEADER_SIZE = 4
MAX_COUNT = 31  # RC, SC and FMT are 5-bit fields
MAX_LENGTH = 0xFFFF  # the views hold 16-bit offsets

# RFC 8285
EXTENSION_PROFILE_ONE_BYTE = 0xBEDE
EXTENSION_PROFILE_TWO_BYTE = 0x1000  # 0x100 then 4 application bits
EXTENSION_PROFILE_TWO_BYTE_MASK = 0xFFF0
EXTENSION_ID_RESERVED = 15  # one-byte form: reserved, never an element

# RTCP packet types (RFC 3550, RFC 4585, RFC 3611)
RTCP_SR = 200
RTCP_RR = 201
RTCP_SDES = 202
RTCP_BYE = 203
RTCP_APP = 204
RTCP_RTPFB = 205
RTCP_PSFB = 206
RTCP_XR = 207

# Feedback message types (FMT)
RTPFB_NACK = 1  # RFC 4585 section 6.2.1
RTPFB_TWCC = 15  # draft-holmer-rmcat-transport-wide-cc-extensions-01
PSFB_PLI = 1  # RFC 4585 section 6.3.1
PSFB_FIR = 4  # RFC 5104 section 4.3.1
PSFB_AFB = 15  # application layer feedback: REMB
REMB_IDENTIFIER = b"REMB"  # draft-alvestrand-rmcat-remb-03

# Minimum sizes in bytes, header included, padding excluded
SR_SIZE = 28
RR_SIZE = 8
REPORT_BLOCK_SIZE = 24
FEEDBACK_SIZE = 12  # header, sender SSRC, media SSRC
NACK_MIN_SIZE = 16
TWCC_MIN_SIZE = 20
FIR_MIN_SIZE = 20
FIR_ENTRY_SIZE = 8
REMB_MIN_SIZE = 20
APP_MIN_SIZE = 12


class ParseError(ValueError):
    """A packet the engine drops; `reason` is the drop reason's name in engine._rtp.DROP_REASONS."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _pad4(n: int) -> int:
    return (-n) % 4


def _check_padding(padding: bytes, what: str, multiple_of_4: bool) -> None:
    if not padding:
        return
    if padding[-1] != len(padding):
        raise ValueError(f"{what} padding must end with its own length ({len(padding)})")
    if multiple_of_4 and len(padding) % 4:
        raise ValueError(f"{what} padding must be a multiple of 4 bytes")
