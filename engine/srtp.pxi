# SRTP and SRTCP (RFC 3711, RFC 7714) over libsrtp, called through C function pointers.
#
# libsrtp is the copy pylibsrtp links into its cffi extension (libsrtp 2.7.0 with OpenSSL in
# pylibsrtp 1.0): no system library. At import this file takes each function's address from that
# extension, checks that the declarations of engine/includes/srtp.pxd match what it was compiled
# with, and from then on every call is C to C: no Python call and no GIL per packet. libsrtp
# allocates only the first time a session meets an SSRC (one stream, cloned from the session's).
#
# One SrtpContext per transport: decrypt once per incoming packet (inbound session, the remote key,
# any SSRC, replay window on), encrypt once per consumer copy (outbound session, the local key, any
# SSRC, repeated sequence numbers allowed so that retransmissions can be sent again, as far back as
# the repair cache reaches).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uintptr_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from engine.includes.consts cimport *
from engine.includes.srtp cimport *

# pylibsrtp's own import calls srtp_init() once for the process (last line of pylibsrtp/__init__.py);
# the library must be initialised before srtp_create.
import pylibsrtp as _pylibsrtp
from pylibsrtp._binding import ffi as _srtp_ffi, lib as _srtp_lib


cdef SrtpFunctions srtp_lib              # filled by _srtp_load() below, at import
cdef Py_ssize_t srtp_live_contexts = 0   # contexts initialised and not yet freed (resource check)
cdef Py_ssize_t srtp_heap_contexts = 0   # contexts from srtp_context_new not yet deleted


cdef int srtp_context_init(SrtpContext* ctx, int profile, const uint8_t* local_key_salt,
                           const uint8_t* remote_key_salt) noexcept nogil:
    """Creates both sessions of `ctx` from master key ‖ master salt of each side.

    Each key_salt holds srtp_key_salt_length(profile) bytes, copied by libsrtp before this returns.
    Returns 0, or a libsrtp error status with `ctx` zeroed (nothing to free).
    """
    cdef srtp_policy_t policy
    cdef srtp_err_status_t status
    memset(ctx, 0, sizeof(SrtpContext))
    if srtp_key_salt_length(profile) == 0:
        return SRTP_ERR_BAD_PARAM

    memset(&policy, 0, sizeof(srtp_policy_t))
    status = srtp_lib.policy_for_rtp(&policy.rtp, profile)
    if status == SRTP_ERR_OK:
        status = srtp_lib.policy_for_rtcp(&policy.rtcp, profile)
    if status != SRTP_ERR_OK:
        return status
    if policy.rtp.auth_tag_len > SRTP_TRAILER_ROOM or 4 + policy.rtcp.auth_tag_len > SRTCP_TRAILER_ROOM:
        return SRTP_ERR_BAD_PARAM

    policy.ssrc.type = SSRC_ANY_INBOUND
    policy.key = <unsigned char*>remote_key_salt
    policy.window_size = SRTP_REPLAY_WINDOW
    policy.allow_repeat_tx = 0
    status = srtp_lib.create(&ctx.inbound, &policy)
    if status != SRTP_ERR_OK:
        ctx.inbound = NULL
        return status

    policy.ssrc.type = SSRC_ANY_OUTBOUND
    policy.key = <unsigned char*>local_key_salt
    policy.window_size = SRTP_RESEND_WINDOW
    policy.allow_repeat_tx = 1          # a NACKed packet is protected again with the same index
    status = srtp_lib.create(&ctx.outbound, &policy)
    if status != SRTP_ERR_OK:
        srtp_lib.dealloc(ctx.inbound)
        memset(ctx, 0, sizeof(SrtpContext))
        return status

    ctx.profile = profile
    ctx.rtp_trailer = policy.rtp.auth_tag_len
    ctx.rtcp_trailer = 4 + policy.rtcp.auth_tag_len
    global srtp_live_contexts
    srtp_live_contexts += 1
    return SRTP_ERR_OK


cdef void srtp_context_free(SrtpContext* ctx) noexcept nogil:
    """Frees both sessions; `ctx` is zeroed after, so freeing twice is harmless."""
    global srtp_live_contexts
    if ctx.profile != 0:
        srtp_live_contexts -= 1
    if ctx.inbound != NULL:
        srtp_lib.dealloc(ctx.inbound)
    if ctx.outbound != NULL:
        srtp_lib.dealloc(ctx.outbound)
    memset(ctx, 0, sizeof(SrtpContext))


cdef int srtp_key_salt_length(int profile) noexcept nogil:
    """Bytes of master key ‖ master salt for a supported profile (GCM: 16 + 12, CM: 16 + 14), else 0."""
    if (profile != SRTP_PROFILE_AEAD_AES_128_GCM and profile != SRTP_PROFILE_AES128_CM_SHA1_80
            and profile != SRTP_PROFILE_AES128_CM_SHA1_32):
        return 0
    return <int>(srtp_lib.master_key_length(profile) + srtp_lib.master_salt_length(profile))


cdef void srtp_context_remove_ssrc(SrtpContext* ctx, uint32_t ssrc) noexcept nogil:
    """Forgets the per-SSRC streams (keystream index, replay window) of `ssrc`, both directions.

    Call when a producer or consumer with that SSRC closes, so that a long-lived transport does not
    keep one libsrtp stream per SSRC it ever saw. Unknown SSRCs are ignored.
    """
    cdef uint32_t network_order = ((ssrc >> 24) | ((ssrc >> 8) & 0xFF00)
                                   | ((ssrc << 8) & 0xFF0000) | (ssrc << 24))
    if ctx.inbound != NULL:
        srtp_lib.remove_stream(ctx.inbound, network_order)
    if ctx.outbound != NULL:
        srtp_lib.remove_stream(ctx.outbound, network_order)


cdef Drop srtp_rtp_unprotect(SrtpContext* ctx, uint8_t* buf, int* length) noexcept nogil:
    """Authenticates and decrypts one SRTP packet in place; `length` shrinks by the tag.

    DROP_SRTP_AUTH on any failure (forged, tampered, replayed, wrong key, malformed): then `length` is
    unchanged and the bytes of `buf` are undefined.
    """
    cdef int n = length[0]
    if ctx.inbound == NULL or n <= 0:
        return DROP_SRTP_AUTH
    if srtp_lib.unprotect(ctx.inbound, buf, &n) != SRTP_ERR_OK:
        return DROP_SRTP_AUTH
    length[0] = n
    return DROP_NONE


cdef Drop srtp_rtp_protect(SrtpContext* ctx, uint8_t* buf, int* length, int capacity) noexcept nogil:
    """Encrypts one RTP packet in place and appends its tag; `length` grows by ctx.rtp_trailer.

    `capacity` is the room at `buf`: DROP_OVERSIZE when length + ctx.rtp_trailer exceeds it.
    DROP_SRTP_AUTH when libsrtp refuses (no context, malformed header): `length` is then unchanged.
    """
    cdef int n = length[0]
    if ctx.outbound == NULL or n <= 0:
        return DROP_SRTP_AUTH
    if n > capacity - ctx.rtp_trailer:
        return DROP_OVERSIZE
    if srtp_lib.protect(ctx.outbound, buf, &n) != SRTP_ERR_OK:
        return DROP_SRTP_AUTH
    length[0] = n
    return DROP_NONE


cdef Drop srtp_rtcp_unprotect(SrtpContext* ctx, uint8_t* buf, int* length) noexcept nogil:
    """Authenticates and decrypts one SRTCP compound in place; `length` shrinks by the trailer.

    DROP_SRTP_AUTH on any failure, with `length` unchanged and `buf` undefined.
    """
    cdef int n = length[0]
    if ctx.inbound == NULL or n <= 0:
        return DROP_SRTP_AUTH
    if srtp_lib.unprotect_rtcp(ctx.inbound, buf, &n) != SRTP_ERR_OK:
        return DROP_SRTP_AUTH
    length[0] = n
    return DROP_NONE


cdef Drop srtp_rtcp_protect(SrtpContext* ctx, uint8_t* buf, int* length, int capacity) noexcept nogil:
    """Encrypts one RTCP compound in place and appends index and tag (ctx.rtcp_trailer bytes).

    DROP_OVERSIZE when it would not fit in `capacity`; DROP_SRTP_AUTH when libsrtp refuses.
    """
    cdef int n = length[0]
    if ctx.outbound == NULL or n <= 0:
        return DROP_SRTP_AUTH
    if n > capacity - ctx.rtcp_trailer:
        return DROP_OVERSIZE
    if srtp_lib.protect_rtcp(ctx.outbound, buf, &n) != SRTP_ERR_OK:
        return DROP_SRTP_AUTH
    length[0] = n
    return DROP_NONE


cdef void srtp_context_counts(Py_ssize_t* live, Py_ssize_t* heap) noexcept nogil:
    live[0] = srtp_live_contexts
    heap[0] = srtp_heap_contexts


# --- the transport hook (crypto_fn in _rtp.pxd) ---------------------------------------------------

cdef SrtpContext* srtp_context_new(int profile, const uint8_t* local_key_salt,
                                   const uint8_t* remote_key_salt) noexcept nogil:
    """A heap SrtpContext for Transport.crypto, initialised as srtp_context_init does; NULL on failure."""
    global srtp_heap_contexts
    cdef SrtpContext* ctx = <SrtpContext*>malloc(sizeof(SrtpContext))
    if ctx == NULL:
        return NULL
    if srtp_context_init(ctx, profile, local_key_salt, remote_key_salt) != SRTP_ERR_OK:
        free(ctx)
        return NULL
    srtp_heap_contexts += 1
    return ctx


cdef void srtp_context_delete(SrtpContext* ctx) noexcept nogil:
    """Frees a context from srtp_context_new and its sessions; NULL is ignored."""
    global srtp_heap_contexts
    if ctx == NULL:
        return
    srtp_context_free(ctx)
    free(ctx)
    srtp_heap_contexts -= 1


cdef Drop srtp_transport_unprotect(void* ctx, uint8_t* data, int* length, int rtcp) noexcept nogil:
    """Transport.unprotect: `ctx` is the transport's SrtpContext*, `rtcp` nonzero for SRTCP."""
    if ctx == NULL:
        return DROP_SRTP_AUTH
    if rtcp:
        return srtp_rtcp_unprotect(<SrtpContext*>ctx, data, length)
    return srtp_rtp_unprotect(<SrtpContext*>ctx, data, length)


cdef Drop srtp_transport_protect(void* ctx, uint8_t* data, int* length, int rtcp) noexcept nogil:
    """Transport.protect: `data` is the start of a send slot, SEND_SLOT_SIZE bytes of room."""
    if ctx == NULL:
        return DROP_SRTP_AUTH
    if rtcp:
        return srtp_rtcp_protect(<SrtpContext*>ctx, data, length, SEND_SLOT_SIZE)
    return srtp_rtp_protect(<SrtpContext*>ctx, data, length, SEND_SLOT_SIZE)


# --- import: function pointers and the ABI check ------------------------------------------------

cdef void* _srtp_function(str name, tuple arguments) except NULL:
    function = getattr(_srtp_lib, name)
    signature = tuple(argument.cname for argument in _srtp_ffi.typeof(function).args)
    if signature != arguments:
        raise ImportError(
            f"pylibsrtp's {name} takes ({', '.join(signature)}), not the libsrtp 2.x "
            f"({', '.join(arguments)}) that engine/includes/srtp.pxd declares"
        )
    return <void*><uintptr_t>int(_srtp_ffi.cast("uintptr_t", _srtp_ffi.addressof(_srtp_lib, name)))


cdef int _srtp_check_layout() except -1:
    cdef srtp_policy_t policy
    cdef uintptr_t base = <uintptr_t>&policy
    ours = {
        ("srtp_crypto_policy_t", None): sizeof(srtp_crypto_policy_t),
        ("srtp_ssrc_t", None): sizeof(srtp_ssrc_t),
        ("srtp_policy_t", None): sizeof(srtp_policy_t),
        ("srtp_policy_t", "ssrc"): <uintptr_t>&policy.ssrc - base,
        ("srtp_policy_t", "rtp"): <uintptr_t>&policy.rtp - base,
        ("srtp_policy_t", "rtcp"): <uintptr_t>&policy.rtcp - base,
        ("srtp_policy_t", "key"): <uintptr_t>&policy.key - base,
        ("srtp_policy_t", "window_size"): <uintptr_t>&policy.window_size - base,
        ("srtp_policy_t", "allow_repeat_tx"): <uintptr_t>&policy.allow_repeat_tx - base,
    }
    for (type_name, field), value in ours.items():
        if field is None:
            theirs = _srtp_ffi.sizeof(type_name)
        else:
            theirs = _srtp_ffi.offsetof(type_name, field)
        if theirs != value:
            what = f"sizeof({type_name})" if field is None else f"offsetof({type_name}, {field})"
            raise ImportError(f"libsrtp in pylibsrtp {_pylibsrtp.__version__} has {what} = {theirs}, "
                              f"engine/includes/srtp.pxd has {value}")
    return 0


cdef int _srtp_load() except -1:
    process = ("struct srtp_ctx_t_ *", "void *", "int *")
    if SEND_SLOT_SIZE < MAX_DATAGRAM + SRTCP_TRAILER_ROOM:
        raise ImportError(f"SEND_SLOT_SIZE {SEND_SLOT_SIZE} leaves no room for an SRTCP trailer after "
                          f"a {MAX_DATAGRAM}-byte datagram")
    if SRTP_RESEND_WINDOW < CACHE_SLOTS:
        raise ImportError(f"SRTP_RESEND_WINDOW {SRTP_RESEND_WINDOW} is shorter than the repair cache's "
                          f"{CACHE_SLOTS} packets: a NACK answered from the cache could not be protected")
    _srtp_check_layout()
    srtp_lib.create = <srtp_create_f>_srtp_function(
        "srtp_create", ("struct srtp_ctx_t_ * *", "struct srtp_policy_t *"))
    srtp_lib.dealloc = <srtp_dealloc_f>_srtp_function("srtp_dealloc", ("struct srtp_ctx_t_ *",))
    srtp_lib.remove_stream = <srtp_remove_stream_f>_srtp_function(
        "srtp_remove_stream", ("struct srtp_ctx_t_ *", "unsigned int"))
    srtp_lib.protect = <srtp_process_f>_srtp_function("srtp_protect", process)
    srtp_lib.unprotect = <srtp_process_f>_srtp_function("srtp_unprotect", process)
    srtp_lib.protect_rtcp = <srtp_process_f>_srtp_function("srtp_protect_rtcp", process)
    srtp_lib.unprotect_rtcp = <srtp_process_f>_srtp_function("srtp_unprotect_rtcp", process)
    srtp_lib.policy_for_rtp = <srtp_policy_from_profile_f>_srtp_function(
        "srtp_crypto_policy_set_from_profile_for_rtp", ("struct srtp_crypto_policy_t *", "srtp_profile_t"))
    srtp_lib.policy_for_rtcp = <srtp_policy_from_profile_f>_srtp_function(
        "srtp_crypto_policy_set_from_profile_for_rtcp", ("struct srtp_crypto_policy_t *", "srtp_profile_t"))
    srtp_lib.master_key_length = <srtp_profile_length_f>_srtp_function(
        "srtp_profile_get_master_key_length", ("srtp_profile_t",))
    srtp_lib.master_salt_length = <srtp_profile_length_f>_srtp_function(
        "srtp_profile_get_master_salt_length", ("srtp_profile_t",))
    return 0


_srtp_load()
