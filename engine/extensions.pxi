# Header extensions rewritten per consumer (RFC 8285), and the audio level read on the way.
#
# Each peer numbers its extensions as its own SDP negotiated them: a Chromium publisher may send
# audio-level as id 1 where an aiortc subscriber expects sdes:mid. So a forwarded packet never keeps
# its publisher's ids: ext_scan reads the packet's elements once, by meaning (the publisher
# transport's ext_kinds), and ext_write writes, per consumer, the elements its subscriber's
# transport negotiated under that transport's ids (ext_ids), plus the consumer's own sdes:mid.
# Elements of an id the publisher's transport was not told of, RID and repaired RID (the layer a
# publisher sends, meaningless to a subscriber), known elements with an empty or over-long value,
# and blocks of a profile other than RFC 8285's are not forwarded, and counted. A malformed block
# never gets here: rtp_parse drops the packet (bad_extension, truncated_extension).
#
# The block written is the one-byte form unless an id needs the two-byte form (over 14): values
# are 1..EXT_VALUE_MAX bytes, so only ids decide. It is at most EXT_BLOCK_MAX bytes, which the send
# slot's room past MAX_DATAGRAM holds, SRTP trailer included.


cdef void ext_scan(const RtpView* v, const Transport* source, ExtScan* scan, EngineCounters* counts) noexcept nogil:
    """The packet's forwardable elements by meaning, and its audio level (-1: none)."""
    cdef int form, n
    cdef size_t pos = 0
    cdef uint8_t ext_id, kind, i
    cdef const uint8_t* value
    cdef uint32_t seen = 0
    scan.count = 0
    scan.audio_level = -1
    scan.cached = 0
    if v.ext_length == 0:
        return
    form = extension_form(v.ext_profile)
    if form == 0:
        counts.ext_foreign += 1
        return
    while True:
        n = extension_next(v.data + v.ext_offset, v.ext_length, form == 1, &pos, &ext_id, &value)
        if n < 0:                      # EXT_END (rtp_parse has already refused EXT_MALFORMED)
            return
        kind = source.ext_kinds[ext_id]
        if kind == EXT_KIND_NONE:
            counts.ext_unmapped += 1
            continue
        if (kind == EXT_KIND_MID or kind == EXT_KIND_RID or kind == EXT_KIND_RRID
                or kind == EXT_KIND_TRANSPORT_CC or seen & (1u << kind)):
            continue                   # the consumer writes its own MID, its transport its own
                                       # transport-wide number; a repeated id is not forwarded
        if n == 0 or n > EXT_VALUE_MAX:
            counts.ext_oversize += 1
            continue
        seen |= 1u << kind
        if kind == EXT_KIND_AUDIO_LEVEL:
            scan.audio_level = value[0]
        i = scan.count
        scan.elements[i].kind = kind
        scan.elements[i].length = <uint8_t>n
        scan.elements[i].offset = <uint16_t>(value - v.data)
        scan.count = i + 1


cdef size_t ext_write(uint8_t* out, const RtpView* v, ExtScan* scan, const Transport* target,
                      const uint8_t* mid, uint8_t mid_length, int twcc_seq) noexcept nogil:
    return ext_write_block(out, v, scan, target, mid, mid_length, twcc_seq, NULL)


cdef inline size_t ext_write_block(uint8_t* out, const RtpView* v, ExtScan* scan, const Transport* target,
                                   const uint8_t* mid, uint8_t mid_length, int twcc_seq,
                                   uint16_t* twcc_at) noexcept nogil:
    """Writes the extension block (its 4-byte header included) for a subscriber on `target`, with
    `mid` as sdes:mid and `twcc_seq` (-1: none) as its transport-wide sequence number, last (its
    offset in the block into `twcc_at` unless NULL); returns its size, 0 when nothing is to be sent
    (no block, X bit cleared).

    Subscribers' transports usually share their ids (those of our offer): the elements written for
    one are kept in `scan` and copied for the next with the same ids, only the MID written anew."""
    cdef uint8_t i, ext_id
    cdef uint8_t key[EXT_KIND_COUNT]
    cdef size_t pos = 4
    cdef uint8_t seq_bytes[2]
    memcpy(key, target.ext_ids, EXT_KIND_COUNT)
    key[EXT_KIND_MID] = key[EXT_KIND_MID] if mid_length else 0
    key[EXT_KIND_TRANSPORT_CC] = key[EXT_KIND_TRANSPORT_CC] if twcc_seq >= 0 else 0
    if not scan.cached or memcmp(key, scan.cache_ids, EXT_KIND_COUNT) != 0:
        memcpy(scan.cache_ids, key, EXT_KIND_COUNT)
        scan.cached = 1
        scan.body_two_byte = key[EXT_KIND_MID] > 14 or key[EXT_KIND_TRANSPORT_CC] > 14
        for i in range(scan.count):
            if key[scan.elements[i].kind] > 14:
                scan.body_two_byte = 1
        scan.body_length = 0
        for i in range(scan.count):
            ext_id = key[scan.elements[i].kind]
            if ext_id:
                scan.body_length += ext_put(scan.body + scan.body_length, scan.body_two_byte, ext_id,
                                            v.data + scan.elements[i].offset, scan.elements[i].length)
    if key[EXT_KIND_MID]:
        pos += ext_put(out + pos, scan.body_two_byte, key[EXT_KIND_MID], mid, mid_length)
    elif scan.body_length == 0 and not key[EXT_KIND_TRANSPORT_CC]:
        return 0
    memcpy(out + pos, scan.body, scan.body_length)
    pos += scan.body_length
    if key[EXT_KIND_TRANSPORT_CC]:
        store16(seq_bytes, <uint16_t>twcc_seq)
        if twcc_at != NULL:
            twcc_at[0] = <uint16_t>(pos + (2 if scan.body_two_byte else 1))
        pos += ext_put(out + pos, scan.body_two_byte, key[EXT_KIND_TRANSPORT_CC], seq_bytes, 2)
    while pos & 3:
        out[pos] = 0
        pos += 1
    store16(out, EXT_TWO_BYTE_PROFILE if scan.body_two_byte else EXT_ONE_BYTE_PROFILE)
    store16(out + 2, <uint16_t>((pos - 4) >> 2))
    return pos


cdef inline size_t ext_put(uint8_t* out, bint two_byte, uint8_t ext_id, const uint8_t* value,
                           uint8_t length) noexcept nogil:
    if two_byte:
        out[0] = ext_id
        out[1] = length
        memcpy(out + 2, value, length)
        return 2 + <size_t>length
    out[0] = (ext_id << 4) | (length - 1)
    memcpy(out + 1, value, length)
    return 1 + <size_t>length


cdef inline void level_record(Producer* p, uint8_t level) noexcept nogil:
    """Keeps an RFC 6464 byte in the producer's ring, for the slow path's speaker decision."""
    p.levels[p.levels_written % LEVEL_RING] = level
    p.levels_written += 1


cdef void transport_set_extension(Transport* t, uint8_t kind, uint8_t ext_id) noexcept nogil:
    """Gives extension `kind` the id `ext_id` on this transport (0: not negotiated)."""
    cdef int i
    if t.ext_ids[kind]:
        t.ext_kinds[t.ext_ids[kind]] = EXT_KIND_NONE
    t.ext_ids[kind] = ext_id
    if ext_id:
        for i in range(1, EXT_KIND_COUNT):   # an id names one extension: the last one told wins
            if i != kind and t.ext_ids[i] == ext_id:
                t.ext_ids[i] = 0
        t.ext_kinds[ext_id] = kind


cdef int transport_set_extensions(State* st, Transport* t, uint8_t mid, uint8_t rid, uint8_t repaired_rid,
                                  uint8_t abs_send_time, uint8_t audio_level, uint8_t transport_cc) except -1:
    """The RFC 8285 ids negotiated with the peer (0: not used; Core.set_transport_extensions): all
    of them at once, an id given twice refused; transport-cc gives the transport its history of
    transport-wide numbers (twcc.pxi)."""
    cdef uint8_t[6] ids = [mid, rid, repaired_rid, abs_send_time, audio_level, transport_cc]
    cdef int i, j
    for i in range(6):
        for j in range(i):
            if ids[i] and ids[i] == ids[j]:
                raise ValueError(f"extension id {ids[i]} is given twice")
    memset(t.ext_ids, 0, sizeof(t.ext_ids))
    memset(t.ext_kinds, 0, sizeof(t.ext_kinds))
    transport_set_extension(t, EXT_KIND_MID, mid)
    transport_set_extension(t, EXT_KIND_RID, rid)
    transport_set_extension(t, EXT_KIND_RRID, repaired_rid)
    transport_set_extension(t, EXT_KIND_ABS_SEND_TIME, abs_send_time)
    transport_set_extension(t, EXT_KIND_AUDIO_LEVEL, audio_level)
    transport_set_extension(t, EXT_KIND_TRANSPORT_CC, transport_cc)
    if transport_cc and t.twcc == NULL:
        # its first transport-wide number is unpredictable, as RTP's are (RFC 3550 5.1)
        t.twcc = <TwccHistory*>mem_alloc(st, sizeof(TwccHistory))   # owned by t
        if t.twcc == NULL:
            raise MemoryError()
        t.twcc_seq = <uint16_t>mix64(t.id ^ <uint64_t>st.now_us)
    t.ext_told = 1
    t.mid_ext = mid
    t.rid_ext = rid
    t.rrid_ext = repaired_rid
    t.learn = mid != 0 or rid != 0 or repaired_rid != 0
    return 0


# ---- sending a packet with its consumer's extensions ---------------------------------------

cdef size_t write_rewritten_head(uint8_t* buf, const RtpView* v, ExtScan* scan,
                                 const Consumer* c, uint16_t* twcc_at) noexcept nogil:
    return rewritten_head(buf, v, scan, c, twcc_at)


cdef inline size_t rewritten_head(uint8_t* buf, const RtpView* v, ExtScan* scan, const Consumer* c,
                                  uint16_t* twcc_at) noexcept nogil:
    """After the fixed header already in `buf`: the CSRCs and the consumer's extension block, and
    the X bit to match; returns the header's size (where the payload goes). A transport with
    transport-cc gets room for its transport-wide number, at `twcc_at` (else 0): the send path
    numbers the packet as it leaves (tx_number), after the pacer held it if it did."""
    cdef size_t csrc = 4 * <size_t>v.csrc_count
    cdef size_t ext
    cdef Transport* t = c.transport
    cdef bint numbered = t.twcc != NULL and t.ext_ids[EXT_KIND_TRANSPORT_CC] != 0
    twcc_at[0] = 0
    memcpy(buf + RTP_HEADER_SIZE, v.data + RTP_HEADER_SIZE, csrc)
    ext = ext_write_block(buf + RTP_HEADER_SIZE + csrc, v, scan, t, c.mid, c.mid_length,
                          t.twcc_seq if numbered else -1, twcc_at)
    buf[0] = (v.data[0] & 0xEF) | (0x10 if ext else 0)
    if twcc_at[0]:
        twcc_at[0] += <uint16_t>(RTP_HEADER_SIZE + csrc)
    return RTP_HEADER_SIZE + csrc + ext


cdef inline void send_rtp_rewritten(State* st, Producer* p, Consumer* c, const RtpView* v, ExtScan* scan,
                             uint16_t seq, uint32_t ts) noexcept nogil:
    cdef int slot = tx_reserve(st)
    cdef uint8_t* buf = tx_buffer(st, slot)
    cdef Transport* t = c.transport
    cdef size_t head, body = v.length - v.payload_offset
    cdef uint16_t twcc_at
    write_rtp_header(buf, v, c, seq, ts)
    head = rewritten_head(buf, v, scan, c, &twcc_at)
    c.packets_sent += 1
    c.octets_sent += v.payload_length
    st.engine.ext_rewritten += 1
    if t.protect != NULL:
        memcpy(buf + head, v.data + v.payload_offset, body)
        tx_send_copy(st, t, slot, <int>(head + body), 0, &c.counters, &p.counters, p.video, twcc_at)
        return
    st.tx.iov[2 * slot].iov_base = buf
    st.tx.iov[2 * slot].iov_len = head
    st.tx.iov[2 * slot + 1].iov_base = <void*>(v.data + v.payload_offset)
    st.tx.iov[2 * slot + 1].iov_len = body
    tx_send_media(st, t, slot, 2 if body else 1, &c.counters, &p.counters, p.video, twcc_at)


cdef void send_rtx_rewritten(State* st, Producer* p, Consumer* c, const RtpView* v, ExtScan* scan,
                             uint16_t osn) noexcept nogil:
    # the header is rebuilt with the consumer's extensions, then written as for any RTX packet
    cdef int slot = tx_reserve(st)
    cdef uint8_t* buf = tx_buffer(st, slot)
    cdef size_t head, body = v.length - v.payload_offset
    cdef RtpView moved = v[0]
    cdef uint16_t twcc_at
    head = rewritten_head(buf, v, scan, c, &twcc_at)
    memcpy(buf + head, v.data + v.payload_offset, body)
    moved.payload_offset = <uint16_t>head
    write_rtx_header(buf, &moved, c, osn)
    c.rtx_sent += 1
    st.engine.rtx_sent += 1
    st.engine.ext_rewritten += 1
    tx_send_copy(st, c.transport, slot, <int>(head + body), 0, &c.counters, &p.counters, False, twcc_at)
