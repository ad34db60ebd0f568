// The participant WebSocket of docs/signaling.md (protocol 1): JSON frames in and out, requests matched
// to their replies by `ref`, the server's error frames turned into MeetingError, and the close. What the
// frames mean is the Meeting's business (lib/meeting.js); this module only carries them.

export const PROTOCOL_PATH = "/signaling/v1";
/** Frame types that answer a request (docs/signaling.md, "Replies"); `error` answers one too. */
export const REPLIES = new Set(["joined", "publish-answer", "producer-closed", "moderated", "ok", "pong"]);
export const REQUEST_TIMEOUT_MS = 20_000;
export const PING_INTERVAL_MS = 25_000;
const OPEN = 1;

/** A refusal or failure: `code` is the server's stable code (docs/signaling.md) or a client one
 * ("closed", "timeout", "media"); `url`: with `meeting_elsewhere`, the signaling URL of the replica that
 * runs the meeting. */
export class MeetingError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "MeetingError";
    this.code = code;
  }
}

export function signalingUrl(base = globalThis.location) {
  return `${base.protocol === "https:" ? "wss:" : "ws:"}//${base.host}${PROTOCOL_PATH}`;
}

/** One WebSocket to the signaling endpoint. Callbacks:
 *   onFrame(frame, reply, datagram)  every frame but `error`; `reply` when it answers a pending request
 *                          of ours, which is resolved with it right after; `datagram` when it came as
 *                          one (WebTransport: it may be late, or lost)
 *   onError(error)         a MeetingError from an error frame that answers no pending request
 *   onClose(code, reason)  once, when the socket closed or close() was called */
export class Signaling {
  constructor({ url, WebSocketImpl = globalThis.WebSocket, onFrame = () => {}, onError = () => {}, onClose = () => {} }) {
    this.url = url;
    this.WebSocketImpl = WebSocketImpl;
    this.onFrame = onFrame;
    this.onError = onError;
    this.onClose = onClose;
    this.closed = false;
    this._ws = null;
    this._pending = new Map();
    this._nextRef = 1;
    this._ping = null;
    this._datagramNumber = 0;
  }

  /** Open the socket; resolves once open, rejects with MeetingError "closed" when it closes first. */
  connect() {
    return new Promise((resolve, reject) => {
      const ws = new this.WebSocketImpl(this.url);
      this._ws = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        resolve();
      };
      ws.onmessage = (event) => this.receive(event.data, Boolean(event.datagram));
      ws.onerror = () => {};
      ws.onclose = (event) => {
        this._finish(event.code, event.reason);
        if (!opened) reject(new MeetingError("closed", `the server closed the connection (${event.code})`));
      };
    });
  }

  /** A fresh ref for a frame. */
  ref() {
    return String(this._nextRef++);
  }

  /** Whether the connection carries datagrams (WebTransport). */
  get datagrams() {
    const ws = this._ws;
    return Boolean(ws && ws.readyState === OPEN && typeof ws.sendDatagram === "function");
  }

  /** Send a frame without a ref as a datagram where the connection has them (WebTransport); false
   * otherwise. For frames that may be lost or reordered (docs/signaling.md, "Datagrams"): each gets
   * `n`, one more than the last, so the server drops a late or duplicated one. */
  sendDatagram(frame) {
    if (!this.datagrams) return false;
    const sent = this._ws.sendDatagram(JSON.stringify({ ...frame, n: this._datagramNumber + 1 }));
    if (sent) this._datagramNumber += 1;
    return Boolean(sent);
  }

  /** Send a frame as it is; throws MeetingError "closed" when the socket is not open. */
  send(frame) {
    if (!this._ws || this._ws.readyState !== OPEN) throw new MeetingError("closed", "not connected to the meeting");
    this._ws.send(JSON.stringify(frame));
  }

  /** Send a frame with a fresh ref; resolves to the reply frame, rejects with the error frame (as a
   * MeetingError), on timeout, or when the connection closes first. */
  request(frame, timeout = REQUEST_TIMEOUT_MS) {
    const ref = this.ref();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(ref);
        reject(new MeetingError("timeout", `no answer to ${frame.type} within ${timeout / 1000} s`));
      }, timeout);
      this._pending.set(ref, { resolve, reject, timer });
      try {
        this.send({ ...frame, ref });
      } catch (error) {
        clearTimeout(timer);
        this._pending.delete(ref);
        reject(error);
      }
    });
  }

  /** Keep the connection alive through proxies that close idle sockets. */
  startPing(interval = PING_INTERVAL_MS) {
    clearInterval(this._ping);
    this._ping = setInterval(() => this.request({ type: "ping" }).catch(() => {}), interval);
  }

  /** One received text frame (or datagram); what is not a JSON object with a string type is ignored. */
  receive(data, datagram = false) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    if (datagram) {
      this.onFrame(frame, false, true); // nothing answers a datagram, nor does it answer anything
      return;
    }
    const pending = frame.ref != null ? this._pending.get(frame.ref) : null;
    if (frame.type === "error") {
      const error = new MeetingError(frame.code, frame.message);
      if (typeof frame.url === "string") error.url = frame.url; // meeting_elsewhere: the owner's signaling URL
      if (!pending) {
        this.onError(error);
        return;
      }
      this._settle(frame.ref, pending);
      pending.reject(error);
      return;
    }
    const reply = Boolean(pending && REPLIES.has(frame.type));
    this.onFrame(frame, reply, false);
    if (reply) {
      this._settle(frame.ref, pending);
      pending.resolve(frame);
    }
  }

  /** Close the socket (if open) and finish at once: pending requests reject, onClose runs. */
  close(code = 1000, reason = "bye") {
    if (this._ws && this._ws.readyState <= OPEN) this._ws.close(code, reason);
    this._finish(1000, "closed by the client");
  }

  _settle(ref, pending) {
    this._pending.delete(ref);
    clearTimeout(pending.timer);
  }

  _finish(code, reason) {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this._ping);
    for (const { reject, timer } of this._pending.values()) {
      clearTimeout(timer);
      reject(new MeetingError("closed", "the meeting connection closed"));
    }
    this._pending.clear();
    this.onClose(code, reason);
  }
}
