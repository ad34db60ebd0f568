# Counters: plain C integers bumped on the fast path, turned into dicts only when Python asks.

# Drop reasons by name, indexed by the Drop enum: packet.pxi defines them next to the parsers.
DROP_NAMES = DROP_REASONS


cdef inline void count_in(Counters* c, size_t length) noexcept nogil:
    c.packets_in += 1
    c.bytes_in += length


# A dropped datagram is charged to the engine and to each level it reached (NULL: not reached).
cdef inline void drop(State* st, Counters* a, Counters* b, Drop reason) noexcept nogil:
    st.counters.drops[<int>reason] += 1
    if a != NULL:
        a.drops[<int>reason] += 1
    if b != NULL:
        b.drops[<int>reason] += 1


cdef dict counters_dict(const Counters* c):
    cdef int i
    return {
        "packets_in": c.packets_in,
        "bytes_in": c.bytes_in,
        "packets_out": c.packets_out,
        "bytes_out": c.bytes_out,
        "drops": {DROP_NAMES[i]: c.drops[i] for i in range(1, <int>DROP_COUNT)},
    }


cdef uint64_t input_drops(const Counters* c) noexcept nogil:
    """Drops that consumed a received datagram (everything but failed sends)."""
    cdef uint64_t total = 0
    cdef int i
    for i in range(1, <int>DROP_COUNT):
        if i != <int>DROP_SEND_FAILED:
            total += c.drops[i]
    return total
