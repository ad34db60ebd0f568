# UDP GSO (UDP_SEGMENT, Linux 4.18): the send queue's datagrams to one peer, in their order, cut into
# runs of equal size (the last of a run may be shorter, as the kernel allows) and each run sent as one
# message that the kernel segments. At fan-out N a receive batch of B packets queues N chains of B
# copies each, interleaved; sent by destination, every chain is a few messages instead of B.
# Datagrams to different peers may leave in another order than queued; to one peer, never.
from engine.includes.sockets cimport EIO, EINVAL, SOL_UDP, UDP_SEGMENT, cmsghdr, getsockopt, sendmsg, socklen_t
from engine.includes.sockets cimport CMSG_DATA, CMSG_FIRSTHDR, CMSG_LEN, CMSG_SPACE


cdef int gso_supported(int fd) noexcept nogil:
    """Whether the socket takes UDP_SEGMENT (the option exists: getsockopt does not fail)."""
    cdef int value = 0
    cdef socklen_t size = sizeof(int)
    return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &value, &size) == 0


cdef inline void gso_set_segment(State* st, msghdr* m, int k, uint16_t segment) noexcept nogil:
    cdef cmsghdr* c
    m.msg_control = &st.tx.control[k * GSO_CONTROL_WORDS]
    m.msg_controllen = CMSG_SPACE(sizeof(uint16_t))
    c = CMSG_FIRSTHDR(m)
    c.cmsg_level = SOL_UDP
    c.cmsg_type = UDP_SEGMENT
    c.cmsg_len = CMSG_LEN(sizeof(uint16_t))
    (<uint16_t*>CMSG_DATA(c))[0] = segment


cdef int gso_build(State* st) noexcept nogil:
    """Fills tx.out with the queue's messages, one per run; returns how many."""
    cdef int n = st.tx.count
    cdef int k = 0                            # messages
    cdef int pos = 0                          # datagrams placed in `order`
    cdef int iov = 0                          # iovecs used in out_iov
    cdef int i, j, v, runs, iovlen
    cdef uint16_t segment, length
    cdef size_t size
    cdef bint alone, refused
    cdef msghdr* m
    cdef msghdr* src
    for i in range(n):
        if not st.tx.first[i]:
            continue
        refused = st.tx.dest[i].gso_refused
        j = i
        while j != -1:                        # one run per turn of this loop
            segment = st.tx.lengths[j]
            alone = refused or segment > GSO_MAX_SEGMENT
            m = &st.tx.out[k].msg_hdr
            src = &st.tx.msgs[j].msg_hdr
            m.msg_name = src.msg_name
            m.msg_namelen = src.msg_namelen
            m.msg_iov = &st.tx.out_iov[iov]
            m.msg_flags = 0
            st.tx.out_first[k] = pos
            runs = 0
            iovlen = 0
            size = 0
            while j != -1:
                length = st.tx.lengths[j]
                if runs and (alone or length > segment or runs == GSO_MAX_SEGMENTS
                             or size + length > GSO_MAX_BYTES):
                    break
                src = &st.tx.msgs[j].msg_hdr
                for v in range(<int>src.msg_iovlen):
                    st.tx.out_iov[iov] = src.msg_iov[v]
                    iov += 1
                    iovlen += 1
                st.tx.order[pos] = j
                pos += 1
                runs += 1
                size += length
                j = st.tx.next[j]
                if length < segment:          # a shorter datagram ends its run
                    break
            m.msg_iovlen = iovlen
            st.tx.out_count[k] = runs
            if runs > 1:
                gso_set_segment(st, m, k, segment)
            else:
                m.msg_control = NULL
                m.msg_controllen = 0
            k += 1
    return k


cdef void gso_credit(State* st, int k, bint sent) noexcept nogil:
    cdef int p
    cdef int first = st.tx.out_first[k]
    for p in range(first, first + st.tx.out_count[k]):
        tx_credit(st, st.tx.order[p], sent)
    if sent and st.tx.out_count[k] > 1:
        st.engine.gso_sends += 1
        st.engine.gso_datagrams += st.tx.out_count[k]


cdef void gso_fallback(State* st, int k, int err) noexcept nogil:
    """The kernel refused message `k`'s segmentation (`err`): its datagrams one by one. EIO says the
    route's device lacks the checksum offload GSO needs: that peer is sent to without GSO from now
    on. EINVAL is about this message (a segment over the path MTU, SO_NO_CHECK): only it falls back."""
    cdef int p, i
    cdef ssize_t r
    cdef int first = st.tx.out_first[k]
    st.engine.gso_fallbacks += 1
    if err == EIO:
        st.tx.dest[st.tx.order[first]].gso_refused = 1
    for p in range(first, first + st.tx.out_count[k]):
        i = st.tx.order[p]
        r = sendmsg(st.fd, &st.tx.msgs[i].msg_hdr, MSG_DONTWAIT)
        while r < 0 and errno == EINTR:
            r = sendmsg(st.fd, &st.tx.msgs[i].msg_hdr, MSG_DONTWAIT)
        st.engine.send_calls += 1
        tx_credit(st, i, r >= 0)


cdef void gso_flush(State* st) noexcept nogil:
    # as tx_send_each: never blocks, EAGAIN drops the rest, a refused message is skipped
    cdef int n = gso_build(st)
    cdef int sent = 0
    cdef int r, k, err
    while sent < n:
        r = sendmmsg(st.fd, &st.tx.out[sent], n - sent, MSG_DONTWAIT)
        st.engine.send_calls += 1
        if r > 0:
            for k in range(sent, sent + r):
                gso_credit(st, k, True)
            sent += r
            continue
        err = errno
        if err == EINTR:
            continue
        if err == EAGAIN:
            for k in range(sent, n):
                gso_credit(st, k, False)
            break
        if (err == EIO or err == EINVAL) and st.tx.out_count[sent] > 1:
            gso_fallback(st, sent, err)
        else:
            gso_credit(st, sent, False)
        sent += 1
