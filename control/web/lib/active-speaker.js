// Who speaks, for the speaking ring and speaker view: the server's `active-speaker` events
// ({"type": "active-speaker", "participant": "<participant id>" | null}) once it sends them, and until
// then the client's own audio-level samples (what it receives, and its own microphone). Without clocks:
// every call takes `now` (ms), so node's test runner drives it.

/** audioLevel (0..1, RTCInboundRtpStreamStats / media-source) above which a sample counts as speech. */
export const SPEAKING_LEVEL = 0.02;
/** A sampled ring stays this long after the last loud sample: no flicker between words. */
export const SPEAKING_HOLD_MS = 1200;

export class ActiveSpeaker {
  constructor({ holdMs = SPEAKING_HOLD_MS, level = SPEAKING_LEVEL } = {}) {
    this.holdMs = holdMs;
    this.level = level;
    /** whether the server sent an `active-speaker` event: from then on it alone says who speaks */
    this.fromServer = false;
    /** the participant the server named last (null: nobody speaks) */
    this.serverSpeaker = null;
    /** participant id → time of its last loud sample */
    this.lastLoud = new Map();
    /** participant id → time it was last named the speaker (by the server, or by a loud sample) */
    this.lastNamed = new Map();
  }

  /** The server's `active-speaker` event. */
  event(frame, now) {
    this.fromServer = true;
    this.serverSpeaker = frame && typeof frame.participant === "string" ? frame.participant : null;
    if (this.serverSpeaker) this.lastNamed.set(this.serverSpeaker, now);
  }

  /** An audio-level sample of one participant's audio (ignored once the server names speakers). */
  sample(participantId, audioLevel, now) {
    if (this.fromServer || !(audioLevel > this.level)) return;
    this.lastLoud.set(participantId, now);
    this.lastNamed.set(participantId, now);
  }

  /** Whether the participant's tile shows the ring now. */
  speaking(participantId, now) {
    if (this.fromServer) return participantId === this.serverSpeaker;
    return now - (this.lastLoud.get(participantId) ?? -Infinity) < this.holdMs;
  }

  /** The latest speaker among `candidates` (for speaker view), or null when none was heard. */
  latest(candidates) {
    let best = null;
    for (const pid of candidates) {
      const at = this.lastNamed.get(pid);
      if (at !== undefined && (best === null || at > this.lastNamed.get(best))) best = pid;
    }
    return best;
  }

  /** A participant left: forget them. */
  forget(participantId) {
    this.lastLoud.delete(participantId);
    this.lastNamed.delete(participantId);
    if (this.serverSpeaker === participantId) this.serverSpeaker = null;
  }
}
