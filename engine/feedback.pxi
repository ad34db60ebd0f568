# Generic NACK feedback (RFC 4585 section 6.2.1): the FCI entries of a NACK read into the sequence
# numbers they report lost, and lost sequence numbers written back as FCI entries. The NACK's
# framing (length, media SSRC) is checked by rtcp_split (packet.pxi); these read or write only
# within what they are given.


cdef int nack_lost(const RtcpView* part, uint16_t* out, int capacity) noexcept nogil:
    """The sequence numbers a NACK reports lost, in FCI order (each entry's PID, then the BLP bits
    from the lowest); at most `capacity` of them. The part's padding is not read."""
    cdef int n = 0
    cdef int offset = 12
    cdef int end = part.length
    cdef uint16_t pid, blp
    cdef int bit
    if part.data[0] & 0x20:
        end -= part.data[part.length - 1]
    while offset + 4 <= end and n < capacity:
        pid = _be16(part.data + offset)
        blp = _be16(part.data + offset + 2)
        out[n] = pid
        n += 1
        for bit in range(16):
            if n == capacity:
                break
            if blp & (1 << bit):
                out[n] = <uint16_t>(pid + 1 + bit)
                n += 1
        offset += 4
    return n


cdef int nack_pack(const uint16_t* lost, int count, uint8_t* out, int capacity) noexcept nogil:
    """Writes `lost` as FCI entries (a PID, and the next 16 sequence numbers as BLP bits): the
    bytes written, a multiple of 4, at most `capacity`. A number that falls outside the current
    entry's 16 starts the next one, so any order is kept whole."""
    cdef int written = 0
    cdef int i
    cdef uint16_t pid = 0, blp = 0, delta
    for i in range(count):
        if written:
            delta = <uint16_t>(lost[i] - pid)
            if delta == 0:
                continue
            if delta <= 16:
                blp |= <uint16_t>(1 << (delta - 1))
                _put16(out + written - 2, blp)
                continue
        if written + 4 > capacity:
            break
        pid = lost[i]
        blp = 0
        _put16(out + written, pid)
        _put16(out + written + 2, 0)
        written += 4
    return written


cdef inline void _put16(uint8_t* p, uint16_t v) noexcept nogil:
    p[0] = v >> 8
    p[1] = v & 0xFF
