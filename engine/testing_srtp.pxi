# Test hooks of SRTP (srtp.pxi), included by engine/_testing.pyx: the profiles' constants, libsrtp's
# resource counts, and SrtpSession, one SRTP context driven with bytes.

# ---- SRTP (srtp.pxi) ---------------------------------------------------------------------------

def srtp_constants():
    """The C constants the SRTP tests need, by name."""
    return {
        "DROP_NONE": DROP_NONE,
        "DROP_SRTP_AUTH": DROP_SRTP_AUTH,
        "DROP_OVERSIZE": DROP_OVERSIZE,
        "SRTP_PROFILE_AES128_CM_SHA1_80": SRTP_PROFILE_AES128_CM_SHA1_80,
        "SRTP_PROFILE_AES128_CM_SHA1_32": SRTP_PROFILE_AES128_CM_SHA1_32,
        "SRTP_PROFILE_AEAD_AES_128_GCM": SRTP_PROFILE_AEAD_AES_128_GCM,
        "SRTP_TRAILER_ROOM": SRTP_TRAILER_ROOM,
        "SRTCP_TRAILER_ROOM": SRTCP_TRAILER_ROOM,
        "SRTP_REPLAY_WINDOW": SRTP_REPLAY_WINDOW,
        "SRTP_RESEND_WINDOW": SRTP_RESEND_WINDOW,
        "CACHE_SLOTS": CACHE_SLOTS,
        "MAX_DATAGRAM": MAX_DATAGRAM,
    }


def srtp_resource_counts():
    """SRTP contexts now held, across the process: every one returns to 0 when freed."""
    cdef Py_ssize_t live, heap
    srtp_context_counts(&live, &heap)
    return {"contexts": live, "heap_contexts": heap}


cdef class SrtpSession:
    """One SrtpContext driven with bytes: srtp.pxi's C functions, one Python call per packet.

    Every method returns (drop, packet): drop is a Drop value (0 = DROP_NONE), packet the output
    bytes, or None when dropped. The context comes from srtp_context_new, as a transport's does;
    once closed, the methods run on a zeroed context ("no SRTP").
    """
    cdef SrtpContext* ctx      # owned here (srtp_context_new), or &self.zeroed once closed
    cdef SrtpContext zeroed
    cdef uint8_t buffer[SEND_SLOT_SIZE]   # one preallocated buffer, the size of a send slot

    def __cinit__(self, int profile, bytes local_key_salt, bytes remote_key_salt):
        self.ctx = &self.zeroed
        cdef int expected = srtp_key_salt_length(profile)
        if expected == 0:
            raise ValueError(f"unsupported SRTP profile {profile}")
        if len(local_key_salt) != expected or len(remote_key_salt) != expected:
            raise ValueError(f"SRTP master key and salt must be {expected} bytes for profile {profile}")
        cdef SrtpContext* ctx = srtp_context_new(profile, local_key_salt, remote_key_salt)
        if ctx == NULL:
            raise ValueError("libsrtp refused the SRTP context")
        self.ctx = ctx

    def __dealloc__(self):
        self.close()

    def close(self):
        if self.ctx != &self.zeroed:
            srtp_context_delete(self.ctx)
            self.ctx = &self.zeroed

    @property
    def profile(self):
        return self.ctx.profile

    @property
    def rtp_trailer(self):
        return self.ctx.rtp_trailer

    @property
    def rtcp_trailer(self):
        return self.ctx.rtcp_trailer

    cdef int _load(self, bytes packet) except -1:
        if len(packet) > MAX_DATAGRAM:
            raise ValueError(f"packet of {len(packet)} bytes is longer than {MAX_DATAGRAM}")
        memcpy(self.buffer, <const char*>packet, len(packet))
        return len(packet)

    cdef tuple _result(self, Drop drop, int length):
        if drop != DROP_NONE:
            return (drop, None)
        return (DROP_NONE, (<char*>self.buffer)[:length])

    def protect(self, bytes packet, capacity=None):
        cdef int length = self._load(packet)
        cdef int room = MAX_DATAGRAM + SRTP_TRAILER_ROOM if capacity is None else min(capacity, SEND_SLOT_SIZE)
        cdef Drop drop = srtp_rtp_protect(self.ctx, self.buffer, &length, room)
        return self._result(drop, length)

    def unprotect(self, bytes packet):
        cdef int length = self._load(packet)
        cdef Drop drop = srtp_rtp_unprotect(self.ctx, self.buffer, &length)
        return self._result(drop, length)

    def protect_rtcp(self, bytes packet, capacity=None):
        cdef int length = self._load(packet)
        cdef int room = MAX_DATAGRAM + SRTCP_TRAILER_ROOM if capacity is None else min(capacity, SEND_SLOT_SIZE)
        cdef Drop drop = srtp_rtcp_protect(self.ctx, self.buffer, &length, room)
        return self._result(drop, length)

    def unprotect_rtcp(self, bytes packet):
        cdef int length = self._load(packet)
        cdef Drop drop = srtp_rtcp_unprotect(self.ctx, self.buffer, &length)
        return self._result(drop, length)

    def hook_protect(self, bytes packet, bint rtcp=False):
        """Through Transport.protect's entry point: srtp_transport_protect."""
        cdef int length = self._load(packet)
        cdef void* ctx = NULL if self.ctx == &self.zeroed else self.ctx
        cdef Drop drop = srtp_transport_protect(ctx, self.buffer, &length, rtcp)
        return self._result(drop, length)

    def hook_unprotect(self, bytes packet, bint rtcp=False):
        """Through Transport.unprotect's entry point: srtp_transport_unprotect."""
        cdef int length = self._load(packet)
        cdef void* ctx = NULL if self.ctx == &self.zeroed else self.ctx
        cdef Drop drop = srtp_transport_unprotect(ctx, self.buffer, &length, rtcp)
        return self._result(drop, length)

    def remove_ssrc(self, uint32_t ssrc):
        srtp_context_remove_ssrc(self.ctx, ssrc)

    def protect_many(self, bytes packet, int count):
        """Protects `packet` `count` times without the GIL, sequence number +1 each time: how many passed."""
        cdef int template = self._load(packet)
        cdef int i, length, passed = 0
        cdef uint16_t sequence
        if template < 12:
            raise ValueError("RTP packet shorter than its fixed header")
        sequence = (self.buffer[2] << 8) | self.buffer[3]
        cdef const uint8_t* source = packet
        with nogil:
            for i in range(count):
                memcpy(self.buffer, source, template)
                self.buffer[2] = <uint8_t>(sequence >> 8)
                self.buffer[3] = <uint8_t>sequence
                sequence += 1
                length = template
                if srtp_rtp_protect(self.ctx, self.buffer, &length, sizeof(self.buffer)) == DROP_NONE:
                    passed += 1
        return passed

    def unprotect_many(self, list packets):
        """Unprotects each SRTP packet of `packets` in turn: how many passed."""
        cdef int length, passed = 0
        for packet in packets:
            length = self._load(packet)
            if srtp_rtp_unprotect(self.ctx, self.buffer, &length) == DROP_NONE:
                passed += 1
        return passed
