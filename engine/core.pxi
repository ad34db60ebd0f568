# Core: the Python handle of the fast path. Table operations run in the loop thread between two
# drain() calls, so each one is applied between two receive batches; Python keeps ids, C keeps
# pointers, and the id table is the single owner of every Transport, Producer and Consumer.
from libc.stdlib cimport calloc, free

WORK_SLOW = DRAIN_SLOW
WORK_LEARNED = DRAIN_LEARNED
WORK_TIMED = DRAIN_TIMED


cdef class Core:
    """The fast path bound to one UDP socket (a non-blocking AF_INET6 datagram socket's fd)."""

    def __cinit__(self, int fd, uint32_t rtcp_ssrc=1, uint64_t keyframe_interval_ms=KEYFRAME_INTERVAL_MS):
        cdef State* st = <State*>calloc(1, sizeof(State))
        if st == NULL:
            raise MemoryError()
        self.st = st
        st.fd = fd
        st.rtcp_ssrc = rtcp_ssrc
        st.keyframe_interval_ms = keyframe_interval_ms
        clock_read(st)
        st.tx.generation = 1
        st.tx.gso = gso_supported(fd)
        st.tx.flush_at = FLUSH_SENDS
        st.rx_buffers = <uint8_t*>mem_alloc(st, BATCH_SIZE * MAX_DATAGRAM)
        st.tx.buffers = <uint8_t*>mem_alloc(st, SEND_SLOTS * SEND_SLOT_SIZE)
        st.slow.buffers = <uint8_t*>mem_alloc(st, SLOW_QUEUE_SIZE * MAX_DATAGRAM)
        if (st.rx_buffers == NULL or st.tx.buffers == NULL or st.slow.buffers == NULL
                or table_init(st, &st.by_addr, TABLE_MIN_CAPACITY) < 0
                or table_init(st, &st.by_media, TABLE_MIN_CAPACITY) < 0
                or table_init(st, &st.by_consumer, TABLE_MIN_CAPACITY) < 0
                or table_init(st, &st.by_rtx, TABLE_MIN_CAPACITY) < 0
                or table_init(st, &st.by_id, TABLE_MIN_CAPACITY) < 0):
            self.close()
            raise MemoryError()
        rx_setup(st)

    def __dealloc__(self):
        if self.st != NULL:
            self.close()
            free(self.st)
            self.st = NULL

    cdef State* _open(self) except NULL:
        if self.closed:
            raise RuntimeError("engine core is closed")
        return self.st

    # ---- the loop's reader ------------------------------------------------------------------

    def drain(self):
        """Drains the socket (GIL released); returns what is left for the loop as WORK_* flags,
        0 when the datagrams read were all forwarded or dropped in C."""
        cdef State* st = self._open()
        cdef int work = 0
        with nogil:
            drain(st)
        if st.slow.count:
            work |= DRAIN_SLOW
        if st.learn.count:
            work |= DRAIN_LEARNED
        if st.paced_count or st.probing_count:
            work |= DRAIN_TIMED
        return work

    def pop_slow(self):
        """The oldest datagram queued for the slow path as (bytes, (host, port)), or None."""
        cdef State* st = self._open()
        cdef int i
        if st.slow.count == 0:
            return None
        i = st.slow.head
        data = (<const char*>(st.slow.buffers + i * MAX_DATAGRAM))[:st.slow.lengths[i]]
        addr = addr_to_python(&st.slow.addrs[i])
        st.slow.head = (i + 1) % SLOW_QUEUE_SIZE
        st.slow.count -= 1
        return data, addr

    # ---- the send path: pacing, GSO (pace.pxi, gso.pxi) ---------------------------------------

    def set_transport_pacing(self, uint32_t tid, uint64_t bps):
        """Paces the video sent to the transport's peer at `bps` bit/s (0: unpaced, what it holds
        goes at the next pace())."""
        cdef State* st = self._open()
        cdef Transport* t = self._transport(tid)
        clock_read(st)
        pace_set_rate(st, t, bps)
        t.pace_explicit = 1

    def set_pace_from_remb(self, bint enabled):
        """Whether a subscriber's REMB paces its transport's video (remb.pxi) where no explicit
        rate was set."""
        self._open().pace_from_remb = enabled

    def pace(self):
        """Sends the held packets that are due (the loop's pace timer); returns how many are still
        held, by all transports."""
        cdef State* st = self._open()
        with nogil:
            clock_read(st)
            if st.paced != NULL:
                pace_release(st)
            if st.probing != NULL:
                probe_send_due(st)
                tx_flush(st)
        return st.paced_count

    @property
    def probing(self):
        """Transports sending a probe cluster: while any, the loop calls pace() every tick."""
        return self._open().probing_count

    def probe_transport(self, uint32_t tid, uint64_t target_bps):
        """Starts a bandwidth probe toward the transport's peer (probe.pxi): padding on one of its
        consumers' RTX streams lifts its sent rate to `target_bps` for a short cluster, and the
        feedback about it may raise its estimate. False (counted, probe_unavailable) when it has
        no transport-cc numbering or no consumer with RTX that has sent video."""
        cdef State* st = self._open()
        cdef Transport* t = self._transport(tid)
        if target_bps == 0:
            raise ValueError("probe target must be above 0 bit/s")
        clock_read(st)
        return probe_start(st, t, target_bps)

    @property
    def paced_pending(self):
        """Packets the paced transports hold: while any, the loop calls pace() every tick."""
        return self._open().paced_count

    def set_gso(self, bint enabled):
        """Turns UDP GSO on (where the kernel has it) or off; returns whether it is on."""
        cdef State* st = self._open()
        tx_flush(st)
        st.tx.gso = enabled and gso_supported(st.fd)
        return bool(st.tx.gso)

    def pop_learned(self):
        """The oldest unknown-SSRC record (learn.pxi) as (transport id, ssrc, payload type, mid,
        rid, repaired rid), the strings None when absent; None when the queue is empty."""
        return learn_pop(self._open())

    def set_version(self, uint64_t version):
        self.version = version

    # ---- lookups ----------------------------------------------------------------------------

    cdef Transport* _transport(self, uint32_t tid) except NULL:
        cdef Key k = id_key(TAG_TRANSPORT, tid)
        cdef Transport* t = <Transport*>table_get(&self._open().by_id, &k)
        if t == NULL:
            raise KeyError(f"no transport {tid}")
        return t

    cdef Producer* _producer(self, uint32_t pid) except NULL:
        cdef Key k = id_key(TAG_PRODUCER, pid)
        cdef Producer* p = <Producer*>table_get(&self._open().by_id, &k)
        if p == NULL:
            raise KeyError(f"no producer {pid}")
        return p

    cdef Consumer* _consumer(self, uint32_t cid) except NULL:
        cdef Key k = id_key(TAG_CONSUMER, cid)
        cdef Consumer* c = <Consumer*>table_get(&self._open().by_id, &k)
        if c == NULL:
            raise KeyError(f"no consumer {cid}")
        return c

    cdef void _flush(self) noexcept:
        # a table operation may queue RTCP (keyframe requests): send it now
        tx_flush(self.st)

    # ---- transports -------------------------------------------------------------------------

    def add_transport(self, uint32_t tid, uint32_t router_id, str host=None, int port=0, bint pipe=False):
        """`pipe`: to another worker (its estimate is not reported by the bandwidth tick)."""
        cdef State* st = self._open()
        cdef Key k = id_key(TAG_TRANSPORT, tid)
        cdef Transport* t
        if table_get(&st.by_id, &k) != NULL:
            raise ValueError(f"transport {tid} exists")
        t = <Transport*>mem_alloc(st, sizeof(Transport))
        if t == NULL:
            raise MemoryError()
        st.live_transports += 1
        t.id = tid
        t.router_id = router_id
        t.pipe = pipe
        estimator_init(&t.est)
        try:
            table_put_or_raise(st, &st.by_id, &k, t)
            if host is not None:
                self.set_transport_remote(tid, host, port)
        except BaseException:
            self.remove_transport(tid)
            raise

    def set_transport_remote(self, uint32_t tid, str host, int port=0):
        """Where the peer is (None: unknown yet); its datagrams are recognised by this address."""
        transport_set_remote(self._open(), self._transport(tid), host, port)

    def set_transport_addresses(self, uint32_t tid, tuple remote, list aliases):
        """Replaces every address of the transport: datagrams from `remote` or any of `aliases`
        ((host, port) tuples) are its own, and it sends to `remote` (None: sends nothing). ICE
        trusts several addresses of one peer at once; only the nominated one is sent to."""
        transport_set_addresses(self._open(), self._transport(tid), remote, aliases)

    def set_transport_extensions(self, uint32_t tid, uint8_t mid=0, uint8_t rid=0, uint8_t repaired_rid=0,
                                 uint8_t abs_send_time=0, uint8_t audio_level=0, uint8_t transport_cc=0):
        """RFC 8285 ids negotiated with the peer (0: not used), one id space for both directions.
        Packets it sends are read by them: MID, RID and repaired RID learn unknown SSRCs
        (learn.pxi), audio-level fills audio producers' level rings. Packets sent to it carry
        these ids only, each consumer its own MID (extensions.pxi)."""
        transport_set_extensions(self._open(), self._transport(tid), mid, rid, repaired_rid,
                                 abs_send_time, audio_level, transport_cc)

    def set_transport_srtp(self, uint32_t tid, int profile, bytes local_key_salt, bytes remote_key_salt):
        """Encrypts this transport's traffic from now on: SRTP/SRTCP with `profile` (RFC 5764
        numbering); local = the keys the engine sends with, remote = the keys the peer sends with."""
        cdef Transport* t = self._transport(tid)
        cdef int size = srtp_key_salt_length(profile)
        cdef SrtpContext* ctx
        if size == 0:
            raise ValueError(f"unsupported SRTP profile {profile}")
        if len(local_key_salt) != size or len(remote_key_salt) != size:
            raise ValueError(f"SRTP profile {profile} needs {size} bytes of master key and salt")
        ctx = srtp_context_new(profile, <const uint8_t*><const char*>local_key_salt,
                               <const uint8_t*><const char*>remote_key_salt)
        if ctx == NULL:
            raise MemoryError("SRTP context creation failed")
        self._clear_srtp(t)
        t.crypto = ctx                  # owned by this transport from here on
        self.st.live_srtp_contexts += 1
        t.protect = srtp_transport_protect
        t.unprotect = srtp_transport_unprotect

    cdef void _clear_srtp(self, Transport* t) noexcept:
        if t.crypto != NULL:
            self.st.live_srtp_contexts -= 1
        srtp_context_delete(<SrtpContext*>t.crypto)
        t.crypto = NULL
        t.protect = NULL
        t.unprotect = NULL

    def remove_transport(self, uint32_t tid):
        """Removes the transport and whatever producers and consumers still use it."""
        cdef State* st = self._open()
        cdef Transport* t = self._transport(tid)
        cdef Key k
        cdef uint32_t i
        cdef list producers = [], consumers = []
        for i in range(st.by_id.capacity):
            if not st.by_id.slots[i].used:
                continue
            if st.by_id.slots[i].key.c == TAG_CONSUMER and (<Consumer*>st.by_id.slots[i].value).transport == t:
                consumers.append(st.by_id.slots[i].key.a)
            elif st.by_id.slots[i].key.c == TAG_PRODUCER and (<Producer*>st.by_id.slots[i].value).transport == t:
                producers.append(st.by_id.slots[i].key.a)
        for i in consumers:
            self.remove_consumer(i)
        for i in producers:
            self.remove_producer(i)
        transport_forget_addresses(self.st, t)
        pace_discard(st, t)
        probe_unlist(st, t)
        k = id_key(TAG_TRANSPORT, tid)
        table_del(&st.by_id, &k)
        self._clear_srtp(t)
        mem_free(st, t.twcc)
        mem_free(st, t)
        st.live_transports -= 1

    # ---- producers --------------------------------------------------------------------------

    def add_producer(self, uint32_t pid, uint32_t tid, object ssrc, uint8_t payload_type,
                     bint video, uint32_t clock_rate, str codec="other", bint below_top=False):
        """A producer; `ssrc` None: not known yet (set_producer_ssrc once learned). `codec` (one of
        CODEC_NAMES) tells where its keyframes start, for simulcast layer switches. `below_top`: a
        simulcast layer with a higher one in its track (its subscribers' bandwidth is probed)."""
        cdef State* st = self._open()
        cdef Transport* t = self._transport(tid)
        cdef Key kid = id_key(TAG_PRODUCER, pid)
        cdef bint has_ssrc = ssrc is not None
        cdef uint32_t value = ssrc if has_ssrc else 0
        cdef Key kmedia = media_key(tid, value)
        cdef Producer* p
        if payload_type > 127:
            raise ValueError(f"payload type out of range: {payload_type}")
        if codec not in CODEC_NAMES:
            raise ValueError(f"codec must be one of {CODEC_NAMES}, not {codec!r}")
        if table_get(&st.by_id, &kid) != NULL:
            raise ValueError(f"producer {pid} exists")
        if has_ssrc and (table_get(&st.by_media, &kmedia) != NULL or table_get(&st.by_rtx, &kmedia) != NULL):
            raise ValueError(f"SSRC {ssrc} is already produced on transport {tid}")
        p = <Producer*>mem_alloc(st, sizeof(Producer))
        if p == NULL:
            raise MemoryError()
        st.live_producers += 1
        p.id = pid
        p.transport = t
        p.ssrc = value
        p.has_ssrc = has_ssrc
        p.payload_type = payload_type
        p.video = video
        p.clock_rate = clock_rate
        p.rtx_payload_type = RTX_PT_KEEP
        p.codec = CODEC_NAMES.index(codec)
        p.below_top = below_top
        if video:
            p.cache = <CacheEntry*>mem_alloc(st, CACHE_SLOTS * sizeof(CacheEntry))   # owned by p
        if (video and p.cache == NULL) or table_put(st, &st.by_id, &kid, p) < 0:
            mem_free(st, p.cache)
            mem_free(st, p)
            st.live_producers -= 1
            raise MemoryError()
        if has_ssrc and table_put(st, &st.by_media, &kmedia, p) < 0:
            table_del(&st.by_id, &kid)
            mem_free(st, p.cache)
            mem_free(st, p)
            st.live_producers -= 1
            raise MemoryError()

    def set_producer_ssrc(self, uint32_t pid, uint32_t ssrc):
        """Gives the producer its (learned or changed) SSRC; asks for a keyframe when it has video
        consumers, since the packets dropped while it was unknown held the last one."""
        cdef State* st = self._open()
        cdef Producer* p = self._producer(pid)
        cdef Key k = media_key(p.transport.id, ssrc)
        cdef void* owner = table_get(&st.by_media, &k)
        if (owner != NULL and owner != <void*>p) or table_get(&st.by_rtx, &k) != NULL:
            raise ValueError(f"SSRC {ssrc} is already produced on transport {p.transport.id}")
        if p.has_ssrc and p.ssrc == ssrc:
            return
        table_put_or_raise(st, &st.by_media, &k, p)
        if p.has_ssrc:
            k = media_key(p.transport.id, p.ssrc)
            table_del(&st.by_media, &k)
        p.ssrc = ssrc
        p.has_ssrc = 1
        if p.video and p.consumer_count and not p.paused:
            self._keyframe(p)

    def set_producer_rtx(self, uint32_t pid, object rtx_ssrc):
        """The SSRC the publisher retransmits this producer's packets on (RFC 4588; given in the
        SDP or learned); None: no RTX. Its packets reach the consumers that have an RTX stream."""
        cdef State* st = self._open()
        cdef Producer* p = self._producer(pid)
        cdef uint32_t value = rtx_ssrc if rtx_ssrc is not None else 0
        cdef Key k = media_key(p.transport.id, value)
        cdef void* owner
        if rtx_ssrc is not None:
            owner = table_get(&st.by_rtx, &k)
            if (owner != NULL and owner != <void*>p) or table_get(&st.by_media, &k) != NULL:
                raise ValueError(f"SSRC {rtx_ssrc} is already produced on transport {p.transport.id}")
            if p.has_rtx and p.rtx_ssrc == value:
                return
            table_put_or_raise(st, &st.by_rtx, &k, p)
        if p.has_rtx:
            k = media_key(p.transport.id, p.rtx_ssrc)
            table_del(&st.by_rtx, &k)
        p.rtx_ssrc = value
        p.has_rtx = rtx_ssrc is not None

    def set_producer_paused(self, uint32_t pid, bint paused):
        """Closes or opens the producer's gate; opening a video gate asks for a keyframe."""
        cdef Producer* p = self._producer(pid)
        cdef uint32_t i
        cdef bint requested = False
        if p.paused == paused:
            return False
        p.paused = paused
        if not paused:
            for i in range(p.consumer_count):
                if p.consumers[i].producer == p:     # not those pending on this layer
                    p.consumers[i].resync = 1
            if p.video:
                requested = self._keyframe(p)
        return requested

    cdef bint _keyframe(self, Producer* p) noexcept:
        cdef bint sent
        clock_read(self.st)
        sent = request_keyframe(self.st, p, False, True)
        self._flush()
        return sent

    def send_remb(self, uint32_t tid, uint64_t bitrate, list ssrcs):
        """Sends a REMB of `bitrate` bit/s for `ssrcs` (at most 16) to the transport's peer now;
        False when it has no address yet (remb.pxi)."""
        cdef uint32_t values[MAX_REMB_SSRCS]
        cdef int i, count = len(ssrcs)
        cdef Transport* t = self._transport(tid)
        cdef bint sent
        if count > MAX_REMB_SSRCS:
            raise ValueError(f"a REMB names at most {MAX_REMB_SSRCS} SSRCs")
        for i in range(count):
            values[i] = ssrcs[i]
        sent = send_remb(self.st, t, bitrate, values, count)
        self._flush()
        return sent

    def request_keyframe(self, uint32_t pid):
        """Sends a PLI to the publisher now (merged with one sent in the last few ms): True if sent."""
        return self._keyframe(self._producer(pid))

    def take_levels(self, uint32_t pid):
        """The RFC 6464 bytes (V bit, then -dBov) read from the producer's packets since the last
        call, oldest first: at most LEVEL_RING, the most recent when more came."""
        cdef Producer* p = self._producer(pid)
        cdef uint64_t start = p.levels_taken
        cdef uint64_t i
        cdef uint8_t out[LEVEL_RING]
        if p.levels_written - start > LEVEL_RING:
            start = p.levels_written - LEVEL_RING
        for i in range(start, p.levels_written):
            out[i - start] = p.levels[i % LEVEL_RING]
        p.levels_taken = p.levels_written
        return (<char*>out)[:p.levels_written - start]

    def remove_producer(self, uint32_t pid):
        """Removes the producer; its consumers stay, detached (they send nothing until switched)."""
        cdef State* st = self._open()
        cdef Producer* p = self._producer(pid)
        cdef Key k
        cdef uint32_t i
        for i in range(p.consumer_count):
            if p.consumers[i].producer == p:
                p.consumers[i].producer = NULL
            else:
                p.consumers[i].pending = NULL    # it keeps its current layer
        mem_free(st, p.consumers)
        if p.has_ssrc:
            k = media_key(p.transport.id, p.ssrc)
            table_del(&st.by_media, &k)
        if p.has_rtx:
            k = media_key(p.transport.id, p.rtx_ssrc)
            table_del(&st.by_rtx, &k)
        k = id_key(TAG_PRODUCER, pid)
        table_del(&st.by_id, &k)
        pace_forget_counters(st, &p.counters)
        mem_free(st, p.cache)
        mem_free(st, p)
        st.live_producers -= 1

    # ---- consumers --------------------------------------------------------------------------

    def add_consumer(self, uint32_t cid, uint32_t tid, uint32_t pid, uint32_t ssrc,
                     uint8_t payload_type, bint paused=False, object rtx_ssrc=None,
                     object rtx_payload_type=None, bytes mid=None):
        """A consumer; with `rtx_ssrc` it also sends the producer's retransmissions (RFC 4588) on
        that SSRC, with `rtx_payload_type` (None: the publisher's RTX payload type). `mid`: the
        subscriber's m-section for it, written as sdes:mid where its transport negotiated one."""
        cdef Transport* t = self._transport(tid)
        cdef Producer* p = self._producer(pid)
        consumer_new(self._open(), t, p, cid, ssrc, payload_type, paused, rtx_ssrc, rtx_payload_type, mid)
        if not paused and p.video and not p.paused and t.has_remote:   # else once it has (transport_reached)
            self._keyframe(p)

    def set_consumer_paused(self, uint32_t cid, bint paused):
        """Closes or opens the consumer's gate; opening a video gate asks for a keyframe."""
        cdef Consumer* c = self._consumer(cid)
        if c.paused == paused:
            return False
        c.paused = paused
        if not paused:
            c.resync = 1
            if c.producer != NULL and c.producer.video and not c.producer.paused and c.transport.has_remote:
                return self._keyframe(c.producer)
        return False

    def switch_consumer(self, uint32_t cid, uint32_t pid, bint at_keyframe=False):
        """Feeds the consumer from another producer, continuing its sequence and timestamps: at
        once, or (`at_keyframe`, a simulcast layer) from that producer's next keyframe on, the
        consumer forwarding its current producer until then (simulcast.pxi)."""
        cdef Consumer* c = self._consumer(cid)
        cdef Producer* p = self._producer(pid)
        if c.producer == p:
            consumer_cancel_pending(c)
            return
        if at_keyframe:
            if c.pending == p:
                return
            producer_append(self.st, p, c)
            consumer_cancel_pending(c)
            c.pending = p
        else:
            consumer_cancel_pending(c)
            consumer_detach(c)
            consumer_attach(self.st, p, c)
        if not c.paused and p.video and not p.paused:
            self._keyframe(p)

    def remove_consumer(self, uint32_t cid):
        cdef State* st = self._open()
        cdef Consumer* c = self._consumer(cid)
        cdef Key k
        consumer_cancel_pending(c)
        consumer_detach(c)
        k = media_key(c.transport.id, c.ssrc)
        table_del(&st.by_consumer, &k)
        k = id_key(TAG_CONSUMER, cid)
        table_del(&st.by_id, &k)
        pace_forget_counters(st, &c.counters)
        mem_free(st, c)
        st.live_consumers -= 1

    # ---- stats ------------------------------------------------------------------------------

    def stats(self):
        return engine_stats(self.st)

    def transport_stats(self, uint32_t tid):
        """The transport's counters, its pacer's, and its bandwidth estimate toward the peer
        (estimator.pxi): estimate_bps and what it rests on (estimate_source)."""
        return transport_stats_of(self._transport(tid), self._now_us())

    def producer_stats(self, uint32_t pid):
        return producer_stats_of(self._producer(pid))

    def bandwidth_report(self):
        """The bandwidth tick (bitrates.pxi): ([(router id, producer id, bit/s, silent)], [(router id,
        transport id, bit/s)]), the video bitrates and subscriber estimates that moved since told (a
        producer also when it fell silent or came back)."""
        cdef State* st = self._open()
        return bw_report(st, self._now_us())

    def bandwidth_retell(self):
        """The next bandwidth_report tells everything, moved or not (bitrates.pxi bw_retell)."""
        bw_retell(self._open())

    def consumer_stats(self, uint32_t cid):
        return consumer_stats_of(self._consumer(cid))

    cdef uint64_t _now_us(self):
        return self.st.now_us if self.st.clock_frozen else monotonic_us()

    def allocations(self):
        """Live C allocations: all zero once the core is closed (the resource check)."""
        cdef State* st = self.st
        return {
            "blocks": st.live_blocks,
            "transports": st.live_transports,
            "producers": st.live_producers,
            "consumers": st.live_consumers,
            "srtp_contexts": st.live_srtp_contexts,
        }

    # ---- teardown ---------------------------------------------------------------------------

    def close(self):
        """Frees every transport, producer, consumer, table and buffer (not the socket)."""
        cdef State* st = self.st
        cdef uint32_t i
        cdef list transports = []
        if self.closed or st == NULL:
            return
        if st.by_id.slots != NULL:
            for i in range(st.by_id.capacity):
                if st.by_id.slots[i].used and st.by_id.slots[i].key.c == TAG_TRANSPORT:
                    transports.append(st.by_id.slots[i].key.a)
            for i in transports:
                self.remove_transport(i)
        table_free(st, &st.by_addr)
        table_free(st, &st.by_media)
        table_free(st, &st.by_consumer)
        table_free(st, &st.by_rtx)
        table_free(st, &st.by_id)
        mem_free(st, st.rx_buffers)
        mem_free(st, st.tx.buffers)
        mem_free(st, st.slow.buffers)
        st.rx_buffers = st.tx.buffers = st.slow.buffers = NULL
        st.slow.count = 0
        st.learn.count = 0
        self.closed = True
