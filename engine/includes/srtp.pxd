# libsrtp 2.x (the 2.7.0 that pylibsrtp 1.0 bundles), declared by hand: no header is included and no
# library is linked. The functions are reached through pointers taken from pylibsrtp's cffi module at
# import (engine/srtp.pxi), which also checks this layout against the compiled one before any use.
from libc.stdint cimport uint8_t, uint32_t


# srtp_err_status_t: the values the fast path tells apart. All others are "failed".
cdef enum:
    SRTP_ERR_OK = 0
    SRTP_ERR_BAD_PARAM = 2
    SRTP_ERR_AUTH_FAIL = 7
    SRTP_ERR_REPLAY_FAIL = 9
    SRTP_ERR_REPLAY_OLD = 10

# srtp_profile_t (RFC 5764, RFC 7714 numbering).
cdef enum:
    SRTP_PROFILE_AES128_CM_SHA1_80 = 1
    SRTP_PROFILE_AES128_CM_SHA1_32 = 2
    SRTP_PROFILE_AEAD_AES_128_GCM = 7

# srtp_ssrc_type_t.
cdef enum:
    SSRC_UNDEFINED = 0
    SSRC_SPECIFIC = 1
    SSRC_ANY_INBOUND = 2
    SSRC_ANY_OUTBOUND = 3

# Room a caller leaves after a packet for what protect appends. No MKI is ever configured, so this is
# the longest tag (GCM: 16), not libsrtp's SRTP_MAX_TRAILER_LEN (which adds 128 bytes of MKI).
cdef enum:
    SRTP_TRAILER_ROOM = 16     # srtp_protect: auth tag
    SRTCP_TRAILER_ROOM = 20    # srtp_protect_rtcp: E flag + SRTCP index (4) and auth tag
    SRTP_MAX_KEY_SALT = 30     # master key + master salt, longest of the supported profiles
    SRTP_REPLAY_WINDOW = 1024  # inbound SRTP replay window, in packets (libsrtp's default is 128)
    # Outbound: a packet protected again (a NACK answered from the repair cache without RTX) must be
    # within this many of the newest its SSRC sent. libsrtp shifts this bitmask once per packet it
    # protects (a 1024-bit one cost ~10 % of a 1200-byte GCM protect), so it is as small as the cache.
    SRTP_RESEND_WINDOW = 512

ctypedef int srtp_err_status_t
ctypedef int srtp_profile_t
ctypedef void* srtp_t          # struct srtp_ctx_t_*: opaque

ctypedef struct srtp_crypto_policy_t:
    uint32_t cipher_type       # srtp_cipher_type_id_t
    int cipher_key_len
    uint32_t auth_type         # srtp_auth_type_id_t
    int auth_key_len
    int auth_tag_len
    int sec_serv               # srtp_sec_serv_t

ctypedef struct srtp_ssrc_t:
    int type                   # srtp_ssrc_type_t
    uint32_t value

# srtp_policy_t of libsrtp 2.x: 128 bytes on LP64; checked field by field at import.
ctypedef struct srtp_policy_t:
    srtp_ssrc_t ssrc
    srtp_crypto_policy_t rtp
    srtp_crypto_policy_t rtcp
    unsigned char* key         # master key ‖ master salt; read during srtp_create only
    void** keys                # srtp_master_key_t**: MKI keys, unused (NULL)
    unsigned long num_master_keys
    void* deprecated_ekt
    unsigned long window_size
    int allow_repeat_tx
    int* enc_xtn_hdr
    int enc_xtn_hdr_count
    void* next                 # struct srtp_policy_t*: one policy per srtp_create here, so NULL

# The libsrtp 2.x signatures (libsrtp 3 takes separate in/out buffers and size_t lengths: not these).
ctypedef srtp_err_status_t (*srtp_create_f)(srtp_t* session, const srtp_policy_t* policy) noexcept nogil
ctypedef srtp_err_status_t (*srtp_dealloc_f)(srtp_t session) noexcept nogil
ctypedef srtp_err_status_t (*srtp_remove_stream_f)(srtp_t session, uint32_t ssrc) noexcept nogil
ctypedef srtp_err_status_t (*srtp_process_f)(srtp_t ctx, void* hdr, int* len_ptr) noexcept nogil
ctypedef srtp_err_status_t (*srtp_policy_from_profile_f)(srtp_crypto_policy_t* policy,
                                                         srtp_profile_t profile) noexcept nogil
ctypedef unsigned int (*srtp_profile_length_f)(srtp_profile_t profile) noexcept nogil


# The libsrtp entry points the fast path uses; filled once at import, never changed after.
cdef struct SrtpFunctions:
    srtp_create_f create
    srtp_dealloc_f dealloc
    srtp_remove_stream_f remove_stream
    srtp_process_f protect
    srtp_process_f unprotect
    srtp_process_f protect_rtcp
    srtp_process_f unprotect_rtcp
    srtp_policy_from_profile_f policy_for_rtp
    srtp_policy_from_profile_f policy_for_rtcp
    srtp_profile_length_f master_key_length
    srtp_profile_length_f master_salt_length


# One transport's SRTP state: nothing Python, so it can live inside the transport's C struct.
# A zeroed SrtpContext is "no SRTP" and may be passed to srtp_context_free.
cdef struct SrtpContext:
    srtp_t inbound             # owned here: remote key, ssrc_any_inbound, replay window
    srtp_t outbound            # owned here: local key, ssrc_any_outbound, repeats allowed
    int profile                # SRTP_PROFILE_*; 0 when not initialised
    int rtp_trailer            # bytes srtp_protect appends under this profile (<= SRTP_TRAILER_ROOM)
    int rtcp_trailer           # bytes srtp_protect_rtcp appends (<= SRTCP_TRAILER_ROOM)
