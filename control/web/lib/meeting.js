// Podium's meeting client: the participant WebSocket (docs/signaling.md, protocol 1) and the two
// WebRTC peer connections to the engine (publish: we offer; subscribe: the server offers).
//
//   import { Meeting } from "/lib/meeting.js";
//   const meeting = new Meeting({ token: accessOrGuestToken, roomId });
//   meeting.addEventListener("track", (e) => attach(e.detail.participantId, e.detail.source, e.detail.stream));
//   const joined = await meeting.join();
//   await meeting.publishMicrophone();
//   await meeting.publishCamera();
//   await meeting.setSource("microphone", false);            // mute
//   await meeting.moderate("revoke_permission", { target, capability: "microphone" });
//   await meeting.chat("hello");                              // everyone; { to: participantId } for one
//   await meeting.leave();

export const PROTOCOL_PATH = "/signaling/v1";
export const KIND = { microphone: "audio", camera: "video", screen: "video", "screen-audio": "audio" };
export const CAPABILITY = { microphone: "microphone", camera: "camera", screen: "screen_share", "screen-audio": "screen_share" };
const REPLIES = new Set(["joined", "publish-answer", "producer-closed", "moderated", "ok", "pong"]);
const REQUEST_TIMEOUT_MS = 20_000;
const PING_INTERVAL_MS = 25_000;

/** A refusal or failure: `code` is the server's stable code (docs/signaling.md) or a client one
 * ("closed", "timeout", "media"). */
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

/** Acquire a local track for a source: the microphone and camera from getUserMedia, the screen from
 * getDisplayMedia. */
export async function captureTrack(source, constraints = true) {
  try {
    if (source === "microphone") return (await navigator.mediaDevices.getUserMedia({ audio: constraints })).getAudioTracks()[0];
    if (source === "camera") return (await navigator.mediaDevices.getUserMedia({ video: constraints })).getVideoTracks()[0];
    if (source === "screen") return (await navigator.mediaDevices.getDisplayMedia({ video: constraints, audio: false })).getVideoTracks()[0];
  } catch (error) {
    throw new MeetingError("media", `${source}: ${error.message || error.name}`);
  }
  throw new MeetingError("invalid", `unknown source ${source}`);
}

/** One participant's session in one room's meeting. An EventTarget: every server event (docs/signaling.md,
 * "Room events") is dispatched under its own type with the frame as `detail`, after the state below was
 * updated; and also:
 *   "participants"  the participant list, the waiting room or someone's state changed
 *   "track"         {participantId, source, kind, track, stream, mid}: remote media to show or play
 *   "track-ended"   {participantId, source, mid}
 *   "local"         {source, track, on}: a local source was published, turned on or off, or unpublished
 *   "error"         a MeetingError that answers no request of ours
 *   "closed"        {code, reason, disconnect}: the socket closed (disconnect: the `disconnected` frame, if any) */
export class Meeting extends EventTarget {
  constructor({ token, roomId, url = signalingUrl(), rtcConfiguration = {}, WebSocketImpl = globalThis.WebSocket } = {}) {
    super();
    this.token = token;
    this.roomId = roomId;
    this.url = url;
    this.rtcConfiguration = { iceServers: [], bundlePolicy: "max-bundle", rtcpMuxPolicy: "require", ...rtcConfiguration };
    this.WebSocketImpl = WebSocketImpl;
    this.state = "new"; // new → connecting → joined → closed
    this.meetingId = null;
    this.participantId = null;
    /** participant id → participant object (docs/signaling.md), admitted people including oneself */
    this.participants = new Map();
    /** people in the waiting room (sent to moderators only) */
    this.waiting = [];
    this.presenterMode = false;
    this.chatEnabled = true;
    this.features = {};
    /** whether the server shows this participant others' names ("Show all usernames"); without it,
     * participant objects carry `name: null` and a `label` such as "Participant 3" */
    this.namesVisible = false;
    /** source → {source, track, transceiver, on} */
    this.local = new Map();
    /** mid → {consumer, track, stream} */
    this.remote = new Map();
    this._consumers = new Map();
    this._pending = new Map();
    this._nextRef = 1;
    this._publishing = Promise.resolve();
    this._subscribing = Promise.resolve();
    this._pub = null;
    this._sub = null;
    this._ws = null;
    this._ping = null;
    this._disconnect = null;
  }

  /** This participant's own object. */
  get self() {
    return this.participants.get(this.participantId) || this._self || null;
  }

  /** Whether this participant holds a capability ("microphone", "camera", "screen_share", "chat"). */
  can(capability) {
    return Boolean(this.self && this.self.capabilities.includes(capability));
  }

  get moderates() {
    return Boolean(this.self && (this.self.role === "organizer" || this.self.role === "moderator"));
  }

  // -- the socket ------------------------------------------------------------------------------

  /** Connect and enter the meeting (or its waiting room). Resolves to the `joined` frame; rejects with
   * a MeetingError (e.g. `no_access`, `banned`, `meeting_not_started`, `invalid_token`). */
  join() {
    if (this.state !== "new") return Promise.reject(new MeetingError("already_joined", "join was called already"));
    this.state = "connecting";
    return new Promise((resolve, reject) => {
      const ws = new this.WebSocketImpl(this.url);
      this._ws = ws;
      ws.onopen = () => {
        this._request({ type: "join", token: this.token, room_id: this.roomId }).then((joined) => {
          this.state = "joined";
          this._ping = setInterval(() => this._request({ type: "ping" }).catch(() => {}), PING_INTERVAL_MS);
          resolve(joined);
        }, reject);
      };
      ws.onmessage = (event) => this._receive(event.data);
      ws.onerror = () => {};
      ws.onclose = (event) => {
        const wasConnecting = this.state === "connecting";
        this._closed(event.code, event.reason);
        if (wasConnecting) reject(new MeetingError("closed", `the server closed the connection (${event.code})`));
      };
    });
  }

  _send(frame) {
    if (!this._ws || this._ws.readyState !== 1) throw new MeetingError("closed", "not connected to the meeting");
    this._ws.send(JSON.stringify(frame));
  }

  /** Send a frame with a fresh ref; resolves to the reply frame, rejects with the error frame. */
  _request(frame, timeout = REQUEST_TIMEOUT_MS) {
    const ref = String(this._nextRef++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(ref);
        reject(new MeetingError("timeout", `no answer to ${frame.type} within ${timeout / 1000} s`));
      }, timeout);
      this._pending.set(ref, { resolve, reject, timer });
      try {
        this._send({ ...frame, ref });
      } catch (error) {
        clearTimeout(timer);
        this._pending.delete(ref);
        reject(error);
      }
    });
  }

  _receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    const pending = frame.ref != null ? this._pending.get(frame.ref) : null;
    if (frame.type === "error") {
      const error = new MeetingError(frame.code, frame.message);
      if (pending) {
        this._pending.delete(frame.ref);
        clearTimeout(pending.timer);
        pending.reject(error);
      } else this._emit("error", error);
      return;
    }
    if (frame.type === "joined") this._onJoined(frame);
    if (pending && REPLIES.has(frame.type)) {
      this._pending.delete(frame.ref);
      clearTimeout(pending.timer);
      pending.resolve(frame);
      return;
    }
    this._onEvent(frame);
  }

  _closed(code, reason) {
    if (this.state === "closed") return;
    this.state = "closed";
    clearInterval(this._ping);
    for (const { reject, timer } of this._pending.values()) {
      clearTimeout(timer);
      reject(new MeetingError("closed", "the meeting connection closed"));
    }
    this._pending.clear();
    this._closePeerConnections();
    for (const entry of this.local.values()) if (entry.track) entry.track.stop();
    this._emit("closed", { code, reason, disconnect: this._disconnect });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // -- room state ------------------------------------------------------------------------------

  _onJoined(frame) {
    this.meetingId = frame.meeting_id;
    this.participantId = frame.participant_id;
    this._self = frame.you;
    this.namesVisible = Boolean(frame.names_visible);
    this._setRoom(frame);
    this.waiting = frame.waiting || [];
    this.features = frame.features || {};
    this._emit("participants", this);
  }

  _setRoom(frame) {
    this.participants = new Map((frame.participants || []).map((p) => [p.id, p]));
    if (this._self && !this.participants.has(this._self.id) && !this._self.waiting) this.participants.set(this._self.id, this._self);
    this.presenterMode = Boolean(frame.presenter_mode);
    this.chatEnabled = frame.chat_enabled !== false;
  }

  _update(pid, change) {
    const p = this.participants.get(pid) || (pid === this.participantId ? this._self : null);
    if (!p) return;
    change(p);
    if (pid === this.participantId) this._self = p;
  }

  _onEvent(frame) {
    const mine = frame.participant_id === this.participantId;
    switch (frame.type) {
      case "subscribe-offer":
        this._subscribing = this._subscribing.then(() => this._answer(frame)).catch((error) =>
          this._emit("error", error instanceof MeetingError ? error : new MeetingError("sdp", String(error.message || error))));
        return;
      case "participant-joined":
        this.participants.set(frame.participant.id, frame.participant);
        break;
      case "participant-left":
        this.participants.delete(frame.participant_id);
        break;
      case "waiting-room":
        this.waiting = frame.waiting;
        break;
      case "admitted":
        if (this._self) this._self = { ...this._self, waiting: false };
        this._setRoom(frame);
        break;
      case "sent-back":
        if (this._self) this._self = { ...this._self, waiting: true, floor: false };
        this.participants = new Map();
        for (const source of this.local.keys()) this._localState(source, false);
        break;
      case "track-published":
        this._update(frame.participant_id, (p) => { p.tracks = [...new Set([...(p.tracks || []), frame.source])]; });
        break;
      case "track-unpublished":
        this._update(frame.participant_id, (p) => { p.tracks = (p.tracks || []).filter((s) => s !== frame.source); });
        for (const [mid, remote] of this.remote) {
          if (remote.consumer.participant_id === frame.participant_id && remote.consumer.source === frame.source) {
            this.remote.delete(mid);
            this._emit("track-ended", { participantId: frame.participant_id, source: frame.source, mid });
          }
        }
        break;
      case "source-changed":
        this._update(frame.participant_id, (p) => {
          p.sources_on = frame.on ? [...new Set([...p.sources_on, frame.source])] : p.sources_on.filter((s) => s !== frame.source);
        });
        if (mine) this._localState(frame.source, frame.on);
        break;
      case "permission-changed":
        this._update(frame.participant_id, (p) => {
          p.capabilities = frame.held ? [...new Set([...p.capabilities, frame.capability])] : p.capabilities.filter((c) => c !== frame.capability);
        });
        if (mine && !frame.held) {
          for (const [source, capability] of Object.entries(CAPABILITY)) if (capability === frame.capability) this._localState(source, false);
        }
        break;
      case "role-changed":
        this._update(frame.participant_id, (p) => { p.role = frame.role; });
        break;
      case "floor-changed":
        this._update(frame.participant_id, (p) => { p.floor = frame.floor; });
        break;
      case "room-changed":
        this.presenterMode = frame.presenter_mode;
        this.chatEnabled = frame.chat_enabled;
        break;
      case "visit-started":
      case "visit-ended":
        this._update(frame.moderator_id, (p) => { p.visiting = frame.type === "visit-started" ? frame.participant_id : null; });
        break;
      case "disconnected":
        this._disconnect = frame;
        break;
      case "reconnect":
        this._reconnectMedia().catch((error) => this._emit("error", new MeetingError("reconnect", String(error.message || error))));
        break;
      default:
        break;
    }
    this._emit(frame.type, frame);
    if (!["chat", "notice", "disconnected", "meeting-ended", "reconnect"].includes(frame.type)) this._emit("participants", this);
  }

  // -- publishing ------------------------------------------------------------------------------

  _newPeerConnection() {
    return new RTCPeerConnection(this.rtcConfiguration);
  }

  /** Publish a local track as a source ("microphone", "camera", "screen", "screen-audio"); without a
   * track, capture one. `on: false` publishes it muted. Publishing a source again replaces its track.
   * Rejects with MeetingError (`permission_missing`, `media`, ...) and then publishes nothing. */
  publish(source, { track = null, on = true, constraints = true } = {}) {
    const run = async () => {
      const existing = this.local.get(source);
      const media = track || await captureTrack(source, constraints);
      if (existing) {
        if (existing.track && existing.track !== media) existing.track.stop();
        await existing.transceiver.sender.replaceTrack(media);
        existing.track = media;
        media.enabled = existing.on;
        this._emit("local", { source, track: media, on: existing.on });
        return existing;
      }
      if (source === "screen" && "contentHint" in media) media.contentHint = "detail";
      if (!this._pub) this._pub = this._newPeerConnection();
      const transceiver = this._pub.addTransceiver(media, { direction: "sendonly", streams: [new MediaStream([media])] });
      const entry = { source, track: media, transceiver, on };
      media.enabled = on;
      this.local.set(source, entry);
      try {
        await this._negotiatePublish(on ? [] : [source]);
      } catch (error) {
        this.local.delete(source);
        transceiver.stop();
        if (!track) media.stop();
        throw error;
      }
      if (source === "screen") media.addEventListener("ended", () => this.unpublish("screen").catch(() => {}), { once: true });
      this._emit("local", { source, track: media, on });
      return entry;
    };
    const result = this._publishing.then(run, run);
    this._publishing = result.catch(() => {});
    return result;
  }

  publishMicrophone(options = {}) { return this.publish("microphone", options); }
  publishCamera(options = {}) { return this.publish("camera", options); }
  publishScreen(options = {}) { return this.publish("screen", options); }

  async _negotiatePublish(muted) {
    const pc = this._pub;
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const sources = {};
    for (const entry of this.local.values()) {
      if (entry.transceiver.mid !== null && !entry.transceiver.stopped) sources[entry.transceiver.mid] = entry.source;
    }
    let reply;
    try {
      reply = await this._request({ type: "publish", sdp: pc.localDescription.sdp, sources, muted });
    } catch (error) {
      if (pc.signalingState === "have-local-offer") await pc.setLocalDescription({ type: "rollback" });
      throw error;
    }
    await pc.setRemoteDescription({ type: "answer", sdp: reply.sdp });
    this.producers = reply.producers;
    return reply;
  }

  /** Stop publishing a source: the producer is closed in the engine, the local track stopped. */
  unpublish(source) {
    const run = async () => {
      const entry = this.local.get(source);
      if (!entry) return;
      this.local.delete(source);
      if (entry.track) entry.track.stop();
      entry.transceiver.stop();
      this._emit("local", { source, track: null, on: false });
      if (this.state === "joined") await this._request({ type: "close-producer", source });
    };
    const result = this._publishing.then(run, run);
    this._publishing = result.catch(() => {});
    return result;
  }

  _localState(source, on) {
    const entry = this.local.get(source);
    if (!entry) return;
    entry.on = on;
    if (entry.track) entry.track.enabled = on;
    this._emit("local", { source, track: entry.track, on });
  }

  /** Turn one's own source on or off (mute). Off takes effect locally at once; on only once the server
   * agreed (it refuses without the permission, or without the floor in presenter mode). */
  async setSource(source, on) {
    if (!on) this._localState(source, false);
    await this._request({ type: "set-source", source, on });
    if (on) this._localState(source, true);
  }

  // -- subscribing -----------------------------------------------------------------------------

  async _answer(frame) {
    if (!this._sub) {
      this._sub = this._newPeerConnection();
      this._sub.ontrack = (event) => this._onTrack(event);
    }
    for (const consumer of frame.consumers) this._consumers.set(consumer.mid, consumer);
    await this._sub.setRemoteDescription({ type: "offer", sdp: frame.sdp });
    const answer = await this._sub.createAnswer();
    await this._sub.setLocalDescription(answer);
    await this._request({ type: "subscribe-answer", sdp: this._sub.localDescription.sdp, version: frame.version });
    for (const consumer of frame.consumers) {
      const remote = this.remote.get(consumer.mid);
      if (!consumer.active && remote) {
        this.remote.delete(consumer.mid);
        this._emit("track-ended", { participantId: consumer.participant_id, source: consumer.source, mid: consumer.mid });
      }
    }
  }

  _onTrack(event) {
    const mid = event.transceiver.mid;
    const consumer = this._consumers.get(mid);
    if (!consumer || !consumer.active) return;
    const stream = new MediaStream([event.track]);
    this.remote.set(mid, { consumer, track: event.track, stream, receiver: event.receiver });
    this._emit("track", { participantId: consumer.participant_id, source: consumer.source, kind: consumer.kind,
      track: event.track, stream, mid });
  }

  /** Remote tracks of one participant: [{source, kind, track, stream, mid}]. */
  remoteTracks(participantId) {
    return [...this.remote.entries()].filter(([, r]) => r.consumer.participant_id === participantId)
      .map(([mid, r]) => ({ source: r.consumer.source, kind: r.consumer.kind, track: r.track, stream: r.stream, mid }));
  }

  /** Inbound RTP statistics per remote track: [{participantId, source, kind, mid, packetsReceived,
   * bytesReceived, framesDecoded, totalSamplesReceived, audioLevel}]. */
  async receiverStats() {
    const rows = [];
    for (const [mid, remote] of this.remote) {
      const report = await remote.receiver.getStats();
      let inbound = null;
      report.forEach((s) => { if (s.type === "inbound-rtp") inbound = s; });
      rows.push({ participantId: remote.consumer.participant_id, source: remote.consumer.source, kind: remote.consumer.kind,
        mid, packetsReceived: inbound ? inbound.packetsReceived || 0 : 0, bytesReceived: inbound ? inbound.bytesReceived || 0 : 0,
        framesDecoded: inbound ? inbound.framesDecoded || 0 : 0,
        totalSamplesReceived: inbound ? inbound.totalSamplesReceived || 0 : 0,
        audioLevel: inbound ? inbound.audioLevel || 0 : 0 });
    }
    return rows;
  }

  /** Outbound RTP statistics per local source: [{source, packetsSent, bytesSent, framesEncoded}]. */
  async senderStats() {
    const rows = [];
    for (const [source, entry] of this.local) {
      const report = await entry.transceiver.sender.getStats();
      let outbound = null;
      report.forEach((s) => { if (s.type === "outbound-rtp") outbound = s; });
      rows.push({ source, packetsSent: outbound ? outbound.packetsSent || 0 : 0, bytesSent: outbound ? outbound.bytesSent || 0 : 0,
        framesEncoded: outbound ? outbound.framesEncoded || 0 : 0 });
    }
    return rows;
  }

  // -- the worker was lost: new connections, the same tracks -----------------------------------

  _closePeerConnections() {
    for (const pc of [this._pub, this._sub]) if (pc) pc.close();
    this._pub = null;
    this._sub = null;
    for (const [mid, remote] of this.remote) {
      this._emit("track-ended", { participantId: remote.consumer.participant_id, source: remote.consumer.source, mid });
    }
    this.remote.clear();
    this._consumers.clear();
  }

  async _reconnectMedia() {
    const entries = [...this.local.values()];
    this._closePeerConnections();
    this.local.clear();
    for (const entry of entries) await this.publish(entry.source, { track: entry.track, on: entry.on });
  }

  // -- chat, moderation, leaving ---------------------------------------------------------------

  /** Send a chat message to everyone, or to one participant with `to`. */
  chat(text, { to = null } = {}) {
    return this._request(to ? { type: "chat", text, to } : { type: "chat", text });
  }

  /** A moderation action (docs/signaling.md): resolves once the engine enforces it. */
  moderate(action, { target, source, capability, person, seconds } = {}) {
    const frame = { type: "moderate", action };
    for (const [name, value] of Object.entries({ target, source, capability, person, seconds })) {
      if (value !== undefined && value !== null) frame[name] = value;
    }
    return this._request(frame);
  }

  /** Leave the meeting; resolves once the server closed the connection. */
  leave() {
    if (this.state !== "joined") {
      this.close();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.addEventListener("closed", () => resolve(), { once: true });
      try {
        this._send({ type: "leave", ref: String(this._nextRef++) });
      } catch {
        this.close();
      }
      setTimeout(() => this.close(), 3000);
    });
  }

  /** Close the connection without leaving politely (the server treats it as leaving). */
  close() {
    if (this._ws && this._ws.readyState <= 1) this._ws.close(1000, "bye");
    this._closed(1000, "closed by the client");
  }
}
