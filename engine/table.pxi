# Hash tables of the forwarding state: O(1) lookups with no allocation; only table operations
# (run between two receive batches, with the GIL) allocate, and every block is counted in
# State.live_blocks so a test can check that close() gives everything back.
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy, memset


cdef enum:
    TAG_TRANSPORT = 1         # Key.c of the id table's entries
    TAG_PRODUCER = 2
    TAG_CONSUMER = 3


cdef void* mem_alloc(State* st, size_t size) noexcept nogil:
    cdef void* block = calloc(1, size)
    if block != NULL:
        st.live_blocks += 1
    return block


cdef void mem_free(State* st, void* block) noexcept nogil:
    if block != NULL:
        st.live_blocks -= 1
        free(block)


cdef inline uint64_t mix64(uint64_t x) noexcept nogil:
    # splitmix64 finaliser: spreads nearby keys (consecutive ids, ports) over the table
    x ^= x >> 30
    x *= <uint64_t>0xBF58476D1CE4E5B9ULL
    x ^= x >> 27
    x *= <uint64_t>0x94D049BB133111EBULL
    x ^= x >> 31
    return x


cdef inline uint32_t key_hash(const Key* k) noexcept nogil:
    return <uint32_t>mix64(k.a ^ (k.b * <uint64_t>0x9E3779B97F4A7C15ULL) ^ (k.c * <uint64_t>0xC2B2AE3D27D4EB4FULL))


cdef inline bint key_eq(const Key* x, const Key* y) noexcept nogil:
    return x.a == y.a and x.b == y.b and x.c == y.c


cdef inline Key id_key(uint64_t tag, uint32_t ident) noexcept nogil:
    cdef Key k
    k.a = ident
    k.b = 0
    k.c = tag
    return k


cdef inline Key media_key(uint32_t transport_id, uint32_t ssrc) noexcept nogil:
    cdef Key k
    k.a = transport_id
    k.b = ssrc
    k.c = 0
    return k


cdef inline Key addr_key(const sockaddr_in6* addr) noexcept nogil:
    cdef Key k
    memcpy(&k.a, &addr.sin6_addr.s6_addr[0], 8)
    memcpy(&k.b, &addr.sin6_addr.s6_addr[8], 8)
    k.c = addr.sin6_port
    return k


cdef int table_init(State* st, Table* t, uint32_t capacity) noexcept nogil:
    t.slots = <Slot*>mem_alloc(st, capacity * sizeof(Slot))
    if t.slots == NULL:
        return -1
    t.capacity = capacity
    t.size = 0
    return 0


cdef void table_free(State* st, Table* t) noexcept nogil:
    mem_free(st, t.slots)
    t.slots = NULL
    t.capacity = 0
    t.size = 0


cdef inline void* table_get(const Table* t, const Key* k) noexcept nogil:
    cdef uint32_t mask = t.capacity - 1
    cdef uint32_t i = key_hash(k) & mask
    while t.slots[i].used:
        if key_eq(&t.slots[i].key, k):
            return t.slots[i].value
        i = (i + 1) & mask
    return NULL


cdef void table_place(Table* t, const Key* k, void* value) noexcept nogil:
    # insert or replace; the caller guarantees a free slot
    cdef uint32_t mask = t.capacity - 1
    cdef uint32_t i = key_hash(k) & mask
    while t.slots[i].used:
        if key_eq(&t.slots[i].key, k):
            t.slots[i].value = value
            return
        i = (i + 1) & mask
    t.slots[i].key = k[0]
    t.slots[i].value = value
    t.slots[i].used = 1
    t.size += 1


cdef int table_put(State* st, Table* t, const Key* k, void* value) noexcept nogil:
    """Inserts or replaces; grows at half load. -1 when out of memory (the table is unchanged)."""
    cdef Slot* old = t.slots
    cdef uint32_t old_capacity = t.capacity
    cdef uint32_t i
    if (t.size + 1) * 2 > t.capacity:
        t.slots = <Slot*>mem_alloc(st, old_capacity * 2 * sizeof(Slot))
        if t.slots == NULL:
            t.slots = old
            return -1
        t.capacity = old_capacity * 2
        t.size = 0
        for i in range(old_capacity):
            if old[i].used:
                table_place(t, &old[i].key, old[i].value)
        mem_free(st, old)
    table_place(t, k, value)
    return 0


cdef int table_put_or_raise(State* st, Table* t, const Key* k, void* value) except -1:
    """table_put for a table operation: MemoryError when the table cannot grow."""
    if table_put(st, t, k, value) < 0:
        raise MemoryError()
    return 0


cdef void table_del(Table* t, const Key* k) noexcept nogil:
    # backward-shift deletion keeps probe chains intact without tombstones
    cdef uint32_t mask = t.capacity - 1
    cdef uint32_t i = key_hash(k) & mask
    cdef uint32_t j, home
    while True:
        if not t.slots[i].used:
            return
        if key_eq(&t.slots[i].key, k):
            break
        i = (i + 1) & mask
    j = i
    while True:
        j = (j + 1) & mask
        if not t.slots[j].used:
            break
        home = key_hash(&t.slots[j].key) & mask
        # the entry at j may stay if its home lies cyclically in (i, j]
        if (i < j and i < home <= j) or (i > j and (home > i or home <= j)):
            continue
        t.slots[i] = t.slots[j]
        i = j
    t.slots[i].used = 0
    t.slots[i].value = NULL
    t.size -= 1
