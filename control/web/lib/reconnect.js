// When and how often a meeting client resumes (docs/signaling.md, "Resuming"): which socket closes end
// the session, the backoff between tries, and a peer connection that failed or stayed disconnected.
// A state machine without clocks or timers: every call takes `now` (ms) and returns what to do, so
// node's test runner drives it deterministically; lib/meeting.js runs the timers. And where the resume
// token of each room is kept.

/** Close codes after which the session is over: not resumed (docs/signaling.md, "Close codes"). */
export const DELIBERATE_CLOSES = new Set([1000, 4001, 4003, 4008, 4009, 4010, 4011, 4029]);
/** Delays before each try, in ms; the last one repeats. */
export const BACKOFF_MS = [250, 500, 1000, 2000, 4000];
/** A peer connection `disconnected` this long counts as lost (ICE often recovers from a short blip). */
export const DISCONNECTED_MS = 3000;
/** Tries stop this long after the connection was lost. */
export const GIVE_UP_MS = 120_000;

/** Whether a socket that closed with `code` is to be resumed. */
export function resumable(code) {
  return !DELIBERATE_CLOSES.has(code);
}

/** The delay before try number `attempt` (0, 1, ...). */
export function backoff(attempt, delays = BACKOFF_MS) {
  return delays[Math.min(attempt, delays.length - 1)];
}

/** The close after a `meeting_elsewhere` refusal: another replica runs the meeting. */
export const CLOSE_ELSEWHERE = 4307;
/** Redirects a join follows in a row before it gives up (docs/signaling.md, "Replicas"). */
export const MAX_REDIRECTS = 3;

/** Where the next try connects, after one that failed with `errorCode`: the replica a
 * `meeting_elsewhere` named (`redirectUrl`); after a try that could not connect, `home` again (the
 * replica it was sent to may have died, and `home`, the page's own server or the load balancer in
 * front of the replicas, reaches a live one); else where it was (`current`). */
export function nextUrl(home, current, errorCode, redirectUrl) {
  if (errorCode === "meeting_elsewhere" && redirectUrl) return redirectUrl;
  if (errorCode === "closed") return home;
  return current;
}

/** Join refusals (error codes) worth another try: the connection, the engine or a replica's redirect,
 * not policy. */
export function retryable(errorCode) {
  return errorCode === "closed" || errorCode === "timeout" || errorCode === "meeting_elsewhere" ||
    String(errorCode).startsWith("engine_");
}

/** The resume state of one meeting client. `state`: "connected" | "reconnecting" | "ended". Each method
 * returns an action: `{ type: "retry", delay }` (try to resume after `delay` ms), `{ type: "check", delay }`
 * (call `tick` after `delay` ms), `{ type: "end", reason }`, or null (nothing to do). */
export class ReconnectMachine {
  constructor({ delays = BACKOFF_MS, disconnectedMs = DISCONNECTED_MS, giveUpMs = GIVE_UP_MS } = {}) {
    this.delays = delays;
    this.disconnectedMs = disconnectedMs;
    this.giveUpMs = giveUpMs;
    this.state = "connected";
    this.attempt = 0;
    this.lostAt = null;
    /** peer connection name → when it went `disconnected` */
    this.disconnected = new Map();
  }

  /** The signaling socket closed with `code`. */
  closed(code, now) {
    if (this.state !== "connected") return null; // ended, or a try's socket: `failed` says what next
    if (!resumable(code)) return this._end("closed");
    return this._lose(now);
  }

  /** A peer connection (`name`: "publish" | "subscribe") reported its connectionState. */
  peer(name, connectionState, now) {
    if (connectionState === "disconnected") {
      if (!this.disconnected.has(name)) this.disconnected.set(name, now);
    } else {
      this.disconnected.delete(name);
    }
    if (this.state !== "connected") return null;
    if (connectionState === "failed") return this._lose(now);
    if (connectionState === "disconnected") return { type: "check", delay: this.disconnected.get(name) + this.disconnectedMs - now };
    return null;
  }

  /** Time passed: a peer connection disconnected for too long is lost. */
  tick(now) {
    if (this.state !== "connected") return null;
    for (const since of this.disconnected.values()) if (now - since >= this.disconnectedMs) return this._lose(now);
    return null;
  }

  /** A try failed (`errorCode`: the MeetingError's code). */
  failed(errorCode, now) {
    if (this.state !== "reconnecting") return null;
    if (!retryable(errorCode)) return this._end(errorCode);
    if (now - this.lostAt >= this.giveUpMs) return this._end("gave_up");
    this.attempt += 1;
    return { type: "retry", delay: backoff(this.attempt, this.delays) };
  }

  /** A try succeeded: connected again, the backoff starts over. */
  resumed() {
    this.state = "connected";
    this.attempt = 0;
    this.lostAt = null;
    this.disconnected.clear();
  }

  /** The session ended deliberately (leave, close): nothing is resumed any more. */
  end() {
    this.state = "ended";
  }

  _lose(now) {
    this.state = "reconnecting";
    this.attempt = 0;
    this.lostAt = now;
    this.disconnected.clear();
    return { type: "retry", delay: backoff(0, this.delays) };
  }

  _end(reason) {
    this.state = "ended";
    return { type: "end", reason };
  }
}

/** The resume token of each room, in sessionStorage (a reload of the tab resumes; another tab, or the
 * tab closed and opened again, joins anew). Falls back to memory where there is no sessionStorage. */
export class ResumeTokens {
  constructor(storage = globalThis.sessionStorage, prefix = "podium.resume.") {
    this.storage = storage || memoryStorage();
    this.prefix = prefix;
  }
  load(roomId) {
    try { return this.storage.getItem(this.prefix + roomId); } catch { return null; }
  }
  save(roomId, token) {
    try { this.storage.setItem(this.prefix + roomId, token); } catch { /* full or denied: no resume */ }
  }
  forget(roomId) {
    try { this.storage.removeItem(this.prefix + roomId); } catch { /* nothing kept */ }
  }
}

function memoryStorage() {
  const items = new Map();
  return { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => items.set(k, String(v)), removeItem: (k) => items.delete(k) };
}
