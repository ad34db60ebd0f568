# The counters and state of the engine and of each transport, producer and consumer, as the dicts
# Core's stats methods return (engine/core.pxi): built on demand, never on the packet path.


cdef dict engine_stats(State* st):
    out = counters_dict(&st.counters)
    out.update(st.engine)
    out["input_drops"] = input_drops(&st.counters)
    out["slow_pending"] = st.slow.count
    out["transports"] = st.live_transports
    out["producers"] = st.live_producers
    out["consumers"] = st.live_consumers
    out["paced_pending"] = st.paced_count
    out["gso"] = bool(st.tx.gso)
    return out


cdef dict transport_stats_of(Transport* t, uint64_t now_us):
    cdef Estimator* e = &t.est
    out = counters_dict(&t.counters)
    out.update(
        pacing_bps=t.pacing_bps,
        pacing_rate_bps=t.pace_rate_bps,
        pace_demand_bps=t.pace_demand_bps,
        remb_bps=t.remb_bps,
        paced_pending=t.pace.count if t.pace != NULL else 0,
        **t.pacing,
        gso_refused=bool(t.gso_refused),
        estimate_bps=e.estimate_bps,
        delay_bps=e.delay_bps,
        loss_bps=e.loss_bps,
        acked_bps=e.acked_bps,
        sent_bps=e.sent_bps,
        estimate_source=ESTIMATE_SOURCES[estimator_source(e, now_us)],
        bandwidth_usage=USAGE_NAMES[e.signal],
        twcc=t.twcc != NULL,
        twcc_feedback=e.feedbacks,
        twcc_malformed=e.malformed,
        twcc_packets_acked=e.packets_acked,
        twcc_packets_lost=e.packets_lost,
        twcc_unknown_seq=e.unknown_seq,
        remb_in=e.remb_in,
        rr_loss_reports=e.rr_loss_reports,
        overuses=e.overuses,
        probing=bool(e.probe_sending or e.probe_judging),
        probes_started=e.probes_started,
        probe_packets=e.probe_packets,
        probe_bytes=e.probe_bytes,
        probes_raised=e.probes_raised,
        probes_failed=e.probes_failed,
        probe_result_bps=e.probe_result_bps,
    )
    return out


cdef dict producer_stats_of(Producer* p):
    out = counters_dict(&p.counters)
    out.update(
        ssrc=p.ssrc if p.has_ssrc else None,
        consumers=p.consumer_count,
        paused=bool(p.paused),
        keyframe_requests=p.keyframe_requests,
        keyframe_rate_limited=p.keyframe_rate_limited,
        nacks=p.nacks,
        sender_reports=p.sender_reports,
        rtx_ssrc=p.rtx_ssrc if p.has_rtx else None,
        rtx_in=p.rtx_in,
        media_bytes_in=p.media_bytes,
        audio_levels=p.levels_written,
        codec=CODEC_NAMES[p.codec],
    )
    return out


cdef dict consumer_stats_of(Consumer* c):
    out = counters_dict(&c.counters)
    out.update(
        paused=bool(c.paused),
        gated=c.gated,
        stale=c.stale,
        sender_reports=c.sender_reports,
        keyframe_requests_in=c.keyframe_requests_in,
        nacks_in=c.nacks_in,
        last_seq=c.last_seq,
        last_ts=c.last_ts,
        rtx_ssrc=c.rtx_ssrc if c.has_rtx else None,
        rtx_sent=c.rtx_sent,
        rtx_unmapped=c.rtx_unmapped,
        mid=(<const char*>c.mid)[:c.mid_length].decode("ascii", "replace") if c.mid_length else None,
        **c.repair,
        pending_producer=c.pending.id if c.pending != NULL else None,
        layer_switches=c.layer_switches,
    )
    return out
