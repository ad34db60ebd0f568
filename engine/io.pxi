# Batched socket I/O: recvmmsg into preallocated buffers, sendmmsg from a queue of send slots,
# and the bounded ring of datagrams waiting for the Python slow path.
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC
from engine.includes.sockets cimport (
    errno, EAGAIN, EINTR, MSG_DONTWAIT, MSG_TRUNC, recvmmsg, sendmmsg, msghdr,
)


cdef uint64_t monotonic_ms() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <uint64_t>ts.tv_sec * 1000 + <uint64_t>ts.tv_nsec // 1000000


cdef inline uint64_t monotonic_us() noexcept nogil:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <uint64_t>ts.tv_sec * 1000000 + <uint64_t>ts.tv_nsec // 1000


cdef inline uint16_t load16(const uint8_t* p) noexcept nogil:
    return (<uint16_t>p[0] << 8) | p[1]


cdef inline uint32_t load32(const uint8_t* p) noexcept nogil:
    return (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | p[3]


cdef inline void store16(uint8_t* p, uint16_t v) noexcept nogil:
    p[0] = v >> 8
    p[1] = v & 0xFF


cdef inline void store32(uint8_t* p, uint32_t v) noexcept nogil:
    p[0] = v >> 24
    p[1] = (v >> 16) & 0xFF
    p[2] = (v >> 8) & 0xFF
    p[3] = v & 0xFF


cdef void rx_setup(State* st) noexcept nogil:
    # the iovecs and address slots never move; only lengths and flags are reset per call
    cdef int i
    for i in range(BATCH_SIZE):
        st.rx_iov[i].iov_base = st.rx_buffers + i * MAX_DATAGRAM
        st.rx_iov[i].iov_len = MAX_DATAGRAM
        st.rx_msgs[i].msg_hdr.msg_name = &st.rx_addrs[i]
        st.rx_msgs[i].msg_hdr.msg_iov = &st.rx_iov[i]
        st.rx_msgs[i].msg_hdr.msg_iovlen = 1
        st.rx_msgs[i].msg_hdr.msg_control = NULL
        st.rx_msgs[i].msg_hdr.msg_controllen = 0


# ---- send queue ----------------------------------------------------------------------------

cdef inline uint8_t* tx_buffer(State* st, int slot) noexcept nogil:
    return st.tx.buffers + slot * SEND_SLOT_SIZE


cdef inline int tx_reserve(State* st) noexcept nogil:
    """Index of a free send slot (flushing a full queue first); tx_commit makes it count."""
    if st.tx.count == SEND_SLOTS:
        tx_flush(st)
    return st.tx.count


cdef inline size_t tx_length(State* st, int slot, int iovlen) noexcept nogil:
    cdef size_t length = st.tx.iov[2 * slot].iov_len
    if iovlen == 2:
        length += st.tx.iov[2 * slot + 1].iov_len
    return length


cdef inline void tx_number(State* st, Transport* t, uint8_t* data, uint16_t twcc_at,
                           size_t length) noexcept nogil:
    """Writes the transport's next transport-wide number at `twcc_at` of a datagram leaving now,
    and remembers it as sent now (twcc.pxi): numbers follow the order datagrams leave in, held
    video included, so the peer's feedback reports none lost that was only waiting."""
    store16(data + twcc_at, t.twcc_seq)
    twcc_take_seq(t, <uint16_t>length, st.now_us, False)
    st.engine.twcc_seq_written += 1


cdef inline void tx_send_media(State* st, Transport* t, int slot, int iovlen, Counters* a, Counters* b,
                               bint paced, uint16_t twcc_at) noexcept nogil:
    """Queues send slot `slot` (plain RTP, whose iovecs the caller filled; its transport-wide number,
    if any, at `twcc_at` of the first): a `paced` datagram (video) may be held by the transport's
    pacer instead (pace.pxi), and numbered when it leaves."""
    cdef size_t length = tx_length(st, slot, iovlen)
    if paced and t.pacing_bps != 0 and not pace_admit(st, t, slot, iovlen, length, twcc_at, False, a, b):
        return                                # held by the pacer: the slot stays free
    if twcc_at:
        tx_number(st, t, <uint8_t*>st.tx.iov[2 * slot].iov_base, twcc_at, length)
    tx_commit(st, t, iovlen, a, b)


cdef inline void tx_commit(State* st, Transport* t, int iovlen, Counters* a, Counters* b) noexcept nogil:
    """Queues send slot `count`, whose iovecs the caller filled (numbered and protected), to the
    transport's peer; a paced transport's bucket pays for it (pace.pxi)."""
    cdef int i = st.tx.count
    cdef msghdr* m = &st.tx.msgs[i].msg_hdr
    cdef size_t length = tx_length(st, i, iovlen)
    if t.pacing_bps != 0:
        pace_spend(st, t, length)
    # the address is borrowed from the transport, which cannot be freed before the queue is
    # flushed (same drain or same op)
    m.msg_name = &t.remote
    m.msg_namelen = sizeof(sockaddr_in6)
    m.msg_iov = &st.tx.iov[2 * i]
    m.msg_iovlen = iovlen
    m.msg_control = NULL
    m.msg_controllen = 0
    m.msg_flags = 0
    st.tx.credit[3 * i] = &t.counters
    st.tx.credit[3 * i + 1] = a
    st.tx.credit[3 * i + 2] = b
    st.tx.lengths[i] = <uint16_t>length
    st.tx.dest[i] = t
    # chain it after the transport's previous datagram of this flush (gso.pxi groups the chains)
    st.tx.next[i] = -1
    if t.tx_generation == st.tx.generation:
        st.tx.next[t.tx_tail] = i
        st.tx.first[i] = 0
    else:
        t.tx_generation = st.tx.generation
        st.tx.first[i] = 1
    t.tx_tail = i
    st.tx.count = i + 1


cdef void tx_send_copy(State* st, Transport* t, int slot, int length, int rtcp,
                       Counters* a, Counters* b, bint paced=False, uint16_t twcc_at=0) noexcept nogil:
    """Queues `length` bytes already written into send slot `slot` (its transport-wide number, if
    any, at `twcc_at`), numbered then encrypted for SRTP peers as it leaves: a `paced` datagram
    (video) may be held by the transport's pacer first (pace.pxi)."""
    cdef uint8_t* buf = tx_buffer(st, slot)
    st.tx.iov[2 * slot].iov_base = buf
    st.tx.iov[2 * slot].iov_len = length
    if paced and t.pacing_bps != 0 and not pace_admit(st, t, slot, 1, length, twcc_at, t.protect != NULL, a, b):
        return                                # held by the pacer: the slot stays free
    if twcc_at:
        tx_number(st, t, buf, twcc_at, length)
    if t.protect != NULL and t.protect(t.crypto, buf, &length, rtcp) != DROP_NONE:
        drop(st, &t.counters, a, DROP_SEND_FAILED)
        return
    st.tx.iov[2 * slot].iov_len = length
    tx_commit(st, t, 1, a, b)


cdef inline void tx_credit(State* st, int i, bint sent) noexcept nogil:
    cdef Counters* c
    cdef int k
    cdef size_t length = st.tx.lengths[i]
    if sent:
        st.counters.packets_out += 1
        st.counters.bytes_out += length
    else:
        st.counters.drops[<int>DROP_SEND_FAILED] += 1
    for k in range(3):
        c = st.tx.credit[3 * i + k]
        if c == NULL:
            continue
        if sent:
            c.packets_out += 1
            c.bytes_out += length
        else:
            c.drops[<int>DROP_SEND_FAILED] += 1


cdef void tx_flush(State* st) noexcept nogil:
    """Sends the queue: with GSO, each transport's runs of equal-size datagrams as one message each
    (gso.pxi); without, one message per datagram in queue order."""
    if st.tx.count == 0:
        return
    if st.tx.gso:
        gso_flush(st)
    else:
        tx_send_each(st)
    st.tx.count = 0
    st.tx.generation += 1


cdef void tx_discard(State* st) noexcept nogil:
    """Forgets the queue unsent and uncounted (benchmark hooks): a new flush generation, so that no
    transport's chain points into it."""
    st.tx.count = 0
    st.tx.generation += 1


cdef void tx_send_each(State* st) noexcept nogil:
    # never blocks: on EAGAIN the rest of the batch is dropped and counted
    cdef int n = st.tx.count
    cdef int sent = 0
    cdef int r, i, err
    while sent < n:
        r = sendmmsg(st.fd, &st.tx.msgs[sent], n - sent, MSG_DONTWAIT)
        st.engine.send_calls += 1
        if r > 0:
            for i in range(sent, sent + r):
                tx_credit(st, i, True)
            sent += r
            continue
        err = errno
        if err == EINTR:
            continue
        if err == EAGAIN:                     # == EWOULDBLOCK on Linux
            for i in range(sent, n):
                tx_credit(st, i, False)
            break
        # this datagram was refused (unreachable address, ...): skip it, send the rest
        tx_credit(st, sent, False)
        sent += 1


cdef void clock_read(State* st) noexcept nogil:
    """Reads the monotonic clock into now_us and now_ms, unless a test froze them."""
    if st.clock_frozen:
        return
    st.now_us = monotonic_us()
    st.now_ms = st.now_us // 1000


# ---- slow path ring ------------------------------------------------------------------------

cdef bint slow_push(State* st, const uint8_t* data, size_t length, const sockaddr_in6* addr) noexcept nogil:
    """Queues a datagram for Python; False (and a slow_queue_full drop) when the ring is full."""
    cdef int i
    if st.slow.count == SLOW_QUEUE_SIZE:
        drop(st, NULL, NULL, DROP_SLOW_QUEUE_FULL)
        return False
    i = (st.slow.head + st.slow.count) % SLOW_QUEUE_SIZE
    memcpy(st.slow.buffers + i * MAX_DATAGRAM, data, length)
    st.slow.lengths[i] = <uint16_t>length
    st.slow.addrs[i] = addr[0]
    st.slow.count += 1
    st.engine.slow_queued += 1
    return True


# ---- receive -------------------------------------------------------------------------------

cdef inline uint64_t sends_so_far(const State* st) noexcept nogil:
    """Datagrams the engine has handed to sendmmsg or given up on, since it started."""
    return st.counters.packets_out + st.counters.drops[<int>DROP_SEND_FAILED]


cdef int drain(State* st) noexcept nogil:
    """Receives and handles datagrams until the socket is empty or this drain's budget is spent;
    returns the number of datagrams read.

    Within a batch that emptied the socket the send queue is flushed whenever it holds tx.flush_at
    copies (FLUSH_SENDS): one way latency is bounded by that much sending, not by a whole batch's
    (64 datagrams x fan-out), while each destination still gets runs of several copies for GSO. A
    batch that filled its read is a backlog, sent in one flush: split into runs of a quarter the
    size, a backlog at 70 % of a core's load cost a third more CPU per copy and never cleared
    (bench/engine_latency.py). Per destination the order stays the order received: flushes go one
    after the other.

    The budget keeps the loop responsive under heavy fan-out (one datagram in, up to one copy per
    consumer out): MAX_BATCHES_PER_DRAIN receive batches, DRAIN_SEND_BUDGET datagrams sent and, once
    anything was sent, DRAIN_TIME_BUDGET_US microseconds, whichever is spent first. The clock is read
    once per batch. A batch reads fewer than BATCH_SIZE datagrams when the sends it would cause (at the
    sends per datagram seen so far) would overrun what is left of the send budget, so that a drain at
    fan-out 50 stops near its budget instead of a whole batch past it. Whatever is left stays in the
    socket, which stays readable: the loop runs its timers and callbacks, then calls back.
    """
    cdef int total = 0
    cdef int batch, i, n, want, flush_at
    cdef uint64_t start_us = monotonic_us()
    cdef uint64_t sends_at_start = sends_so_far(st)
    cdef uint64_t sent = 0
    cdef uint64_t per_datagram
    # sends per datagram before any batch of this drain: the engine's average so far
    per_datagram = sends_at_start // st.engine.datagrams_in if st.engine.datagrams_in else 0
    st.engine.drains += 1
    for batch in range(MAX_BATCHES_PER_DRAIN):
        want = BATCH_SIZE
        if per_datagram > 0 and <uint64_t>BATCH_SIZE * per_datagram > DRAIN_SEND_BUDGET - sent:
            want = <int>((DRAIN_SEND_BUDGET - sent) // per_datagram)
            if want < 1:
                want = 1
        for i in range(want):
            st.rx_msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in6)
            st.rx_msgs[i].msg_hdr.msg_flags = 0
        n = recvmmsg(st.fd, st.rx_msgs, want, MSG_DONTWAIT, NULL)
        st.engine.recv_calls += 1
        if n <= 0:
            if n < 0 and errno != EAGAIN and errno != EINTR:
                st.engine.recv_errors += 1
            break
        clock_read(st)
        if st.paced != NULL:
            pace_release(st)               # due video first: it was queued before this batch
        # A full read means a backlog: its datagrams have waited already, and whole-batch GSO runs
        # clear it soonest. A read that emptied the socket flushes early, for the first datagram.
        flush_at = st.tx.flush_at if n < want else 0
        for i in range(n):
            handle_datagram(st, st.rx_buffers + i * MAX_DATAGRAM, st.rx_msgs[i].msg_len,
                            st.rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC, &st.rx_addrs[i])
            if flush_at and st.tx.count >= flush_at:
                # the copies queued so far leave now, not after the whole batch's (at fan-out 10: 640)
                tx_flush(st)
        if st.probing != NULL:
            probe_send_due(st)             # probe padding due at this batch's clock (probe.pxi)
        # flush before the next recvmmsg: queued RTP borrows its payload from rx_buffers
        tx_flush(st)
        total += n
        if n < want:
            break
        sent = sends_so_far(st) - sends_at_start
        # the time budget is for forwarding: datagrams that send nothing (STUN, DTLS, drops) are
        # cheap and bounded by MAX_BATCHES_PER_DRAIN, and the slow path sees them in one drain
        if sent >= DRAIN_SEND_BUDGET or (sent > 0 and monotonic_us() - start_us >= DRAIN_TIME_BUDGET_US):
            break
        # ceiling: never estimate a fan-out lower than seen, so the next batch stays within budget
        per_datagram = (sent + <uint64_t>total - 1) // <uint64_t>total
    return total
