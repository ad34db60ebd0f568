# A transport's addresses in the by_addr table (Core.set_transport_remote, set_transport_addresses):
# the one it sends to, and the aliases ICE trusts for the same peer at once; datagrams from any of
# them are its own. The first address it can be sent to asks its consumers' publishers for keyframes.


cdef int transport_set_remote(State* st, Transport* t, str host, int port) except -1:
    """Where the peer is (None: unknown yet); its datagrams are recognised by this address."""
    cdef sockaddr_in6 addr
    cdef Key k
    if host is not None:
        addr_from_python(&addr, host, port)
        k = addr_key(&addr)
        if table_get(&st.by_addr, &k) not in (NULL, <void*>t):
            raise ValueError(f"address {(host, port)} belongs to another transport")
    cdef bint reached = not t.has_remote and host is not None
    if t.has_remote:
        k = addr_key(&t.remote)
        table_del(&st.by_addr, &k)
        t.has_remote = 0
    if host is not None:
        k = addr_key(&addr)
        table_put_or_raise(st, &st.by_addr, &k, t)
        t.remote = addr
        t.has_remote = 1
    if reached:
        transport_reached(st, t)
    return 0


cdef int transport_set_addresses(State* st, Transport* t, tuple remote, list aliases) except -1:
    """Replaces every address of the transport: datagrams from `remote` or any of `aliases`
    ((host, port) tuples) are its own, and it sends to `remote` (None: sends nothing)."""
    cdef sockaddr_in6 addr
    cdef Key k
    cdef list keys = []
    cdef void* owner
    cdef bint reached = not t.has_remote and remote is not None
    for host, port in ([remote] if remote is not None else []) + aliases:
        addr_from_python(&addr, host, port)
        k = addr_key(&addr)
        owner = table_get(&st.by_addr, &k)
        if owner != NULL and owner != <void*>t:
            raise ValueError(f"address {(host, port)} belongs to another transport")
        keys.append((host, port))
    transport_forget_addresses(st, t)
    for host, port in keys:
        addr_from_python(&addr, host, port)
        k = addr_key(&addr)
        table_put_or_raise(st, &st.by_addr, &k, t)
    if remote is not None:
        addr_from_python(&t.remote, remote[0], remote[1])
        t.has_remote = 1
    if reached:
        transport_reached(st, t)
    return 0


cdef void transport_reached(State* st, Transport* t) noexcept:
    # The transport can be sent to from now on (a WebRTC peer once DTLS keyed SRTP): each open
    # video consumer asks its publisher for a keyframe now. One asked when the consumer was made
    # could not reach the subscriber, and the subscriber's own PLI would wait out the relay's
    # keyframe interval: its first decoded frame would come that much later.
    cdef uint32_t i
    cdef Consumer* c
    cdef Producer* sources[2]
    cdef int j
    cdef bint asked = False
    st.now_ms = monotonic_ms()
    for i in range(st.by_id.capacity):
        if not st.by_id.slots[i].used or st.by_id.slots[i].key.c != TAG_CONSUMER:
            continue
        c = <Consumer*>st.by_id.slots[i].value
        if c.transport != t or c.paused:
            continue
        sources[0] = c.producer
        sources[1] = c.pending            # a layer switch waiting for that layer's keyframe
        for j in range(2):
            if sources[j] != NULL and sources[j].video and not sources[j].paused:
                if request_keyframe(st, sources[j], False, True):
                    asked = True
    if asked:
        tx_flush(st)                      # the requests are RTCP queued now: send them


cdef void transport_forget_addresses(State* st, Transport* t) noexcept:
    # by_addr entries pointing at t (its remote and its aliases); table ops are rare, so a
    # scan per entry is cheaper than keeping a list per transport
    cdef uint32_t i
    cdef Key k
    cdef bint found = True
    while found:
        found = False
        for i in range(st.by_addr.capacity):
            if st.by_addr.slots[i].used and st.by_addr.slots[i].value == <void*>t:
                k = st.by_addr.slots[i].key
                table_del(&st.by_addr, &k)
                found = True
                break
    t.has_remote = 0
