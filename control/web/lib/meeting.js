// Podium's meeting client: the participant WebSocket (docs/signaling.md, protocol 1) and the two
// WebRTC peer connections to the engine (publish: we offer; subscribe: the server offers). A façade over
// three modules: lib/signaling.js (the socket), lib/room-state.js (the room, a pure reducer) and
// lib/media.js (the peer connections and tracks).
//
//   import { Meeting } from "/lib/meeting.js";
//   const meeting = new Meeting({ token: accessOrGuestToken, roomId });  // or token: () => podium.accessToken()
//   meeting.addEventListener("track", (e) => attach(e.detail.participantId, e.detail.source, e.detail.stream));
//   const joined = await meeting.join();
//   await meeting.publishMicrophone();
//   await meeting.publishCamera();
//   await meeting.setSource("microphone", false);            // mute
//   await meeting.moderate("revoke_permission", { target, capability: "microphone" });
//   await meeting.chat("hello");                              // everyone; { to: participantId } for one
//   const said = await meeting.chatHistory();                 // what was said before (a reload), as `chat` events
//   await meeting.leave();

import { MeetingError, Signaling, signalingUrl } from "./signaling.js";
import { CAPABILITY, can, initialState, moderates, reduce, selfOf } from "./room-state.js";
import { Media } from "./media.js";
import { certificateHashes, chooseTransport } from "./webtransport.js";
import { CLOSE_ELSEWHERE, MAX_REDIRECTS, ReconnectMachine, ResumeTokens, nextUrl } from "./reconnect.js";
import { API_PREFIX } from "./podium.js";

export { MeetingError, PROTOCOL_PATH, signalingUrl } from "./signaling.js";
export { CAPABILITY, KIND } from "./room-state.js";
export { captureTrack } from "./media.js";
export { DELIBERATE_CLOSES, ResumeTokens } from "./reconnect.js";

const LEAVE_GRACE_MS = 3000;
/** Chat messages per request of chatHistory() (the REST API's largest page). */
const CHAT_PAGE = 200;
/** Server events after which the room cannot have changed: no "participants" event is looked for. */
const NOT_ROOM_EVENTS = new Set(["chat", "notice", "disconnected", "meeting-ended", "reconnect"]);

/** One participant's session in one room's meeting. An EventTarget: every server event (docs/signaling.md,
 * "Room events") is dispatched under its own type with the frame as `detail`, after the state below was
 * updated; and also:
 *   "participants"  the participant list, the waiting room or someone's state changed
 *   "track"         {participantId, source, kind, track, stream, mid}: remote media to show or play
 *   "track-ended"   {participantId, source, mid}
 *   "local"         {source, track, on}: a local source was published, turned on or off, or unpublished
 *   "error"         a MeetingError that answers no request of ours
 *   "reconnecting"  {reason}: the connection was lost; the Meeting resumes by itself (docs/signaling.md,
 *                   "Resuming"), with backoff, as the same participant
 *   "reconnected"   the `joined` frame of the resume (`media`: "kept", "renew" or "wait"; `resumed` false
 *                   when the participant was gone and this is a new one)
 *   "closed"        {code, reason, disconnect}: the session is over (disconnect: the `disconnected` frame,
 *                   if any); not sent for a connection that is being resumed */
export class Meeting extends EventTarget {
  constructor({ token, roomId, url = signalingUrl(), rtcConfiguration = {}, WebSocketImpl = globalThis.WebSocket,
    webTransport = null, resumeTokens = new ResumeTokens(), reconnect = new ReconnectMachine(), timers = globalThis } = {}) {
    super();
    /** What the server offers besides the WebSocket (lib/webtransport.js `offeredWebTransport`): {url,
     * certificateHashes}; each connection tries it first and falls back to the WebSocket. */
    this.webTransport = webTransport;
    /** "websocket" or "webtransport": what the current connection runs on */
    this.transport = "websocket";
    this.token = token;
    this.roomId = roomId;
    this.url = url;
    /** Where the Meeting first connects, and comes back to when the replica it was sent to is gone. */
    this.homeUrl = url;
    this._redirects = 0;
    this.WebSocketImpl = WebSocketImpl;
    this.state = "new"; // new → connecting → joined → closed
    /** "connected" or "reconnecting" while joined (lib/reconnect.js) */
    this.connection = "connected";
    /** the room as room-state.js keeps it; replaced, never changed, by each server frame */
    this.room = initialState();
    this.resumeTokens = resumeTokens;
    this.reconnect = reconnect;
    this._timers = timers;
    this._check = null;
    this._resuming = false;
    /** "input:<session>" / "preview:<author>" → the greatest number seen (datagrams' freshness) */
    this._latest = new Map();
    this.signaling = this._newSignaling();
    this.media = new Media({ rtcConfiguration, request: (frame) => this.signaling.request(frame),
      emit: (type, detail) => this._emit(type, detail), joined: () => this.state === "joined",
      onConnectionState: (name, state) => this._peerState(name, state) });
  }

  /** A signaling socket whose close counts only while it is the current one. */
  _newSignaling(url = this.url, WebSocketImpl = this.WebSocketImpl) {
    const signaling = new Signaling({ url, WebSocketImpl,
      onFrame: (frame, reply, datagram) => (datagram ? this._onDatagram(frame) : this._onFrame(frame, reply)),
      onError: (error) => this._emit("error", error),
      onClose: (code, reason) => { if (signaling === this.signaling) this._socketClosed(code, reason); } });
    return signaling;
  }

  get meetingId() { return this.room.meetingId; }
  get participantId() { return this.room.participantId; }
  /** participant id → participant object (docs/signaling.md), admitted people including oneself */
  get participants() { return this.room.participants; }
  /** people in the waiting room (sent to moderators only) */
  get waiting() { return this.room.waiting; }
  get presenterMode() { return this.room.presenterMode; }
  get chatEnabled() { return this.room.chatEnabled; }
  get features() { return this.room.features; }
  /** Why this participant waits: "moderator" (nobody who moderates is there yet), "admission", or null. */
  get waitingFor() { return this.room.waitingFor; }
  /** whether the server shows this participant others' names ("Show all usernames"); without it,
   * participant objects carry `name: null` and a `label` such as "Participant 3" */
  get namesVisible() { return this.room.namesVisible; }
  get rtcConfiguration() { return this.media.rtcConfiguration; }
  /** source → {source, track, transceiver, on} */
  get local() { return this.media.local; }
  /** mid → {consumer, track, stream, receiver} */
  get remote() { return this.media.remote; }
  /** the producers of the last publish answer: [{id, mid, source, kind}] */
  get producers() { return this.media.producers; }

  /** This participant's own object. */
  get self() { return selfOf(this.room); }

  /** Whether this participant holds a capability ("microphone", "camera", "screen_share", "chat"). */
  can(capability) { return can(this.room, capability); }

  get moderates() { return moderates(this.room); }

  // -- the connection --------------------------------------------------------------------------

  /** Connect and enter the meeting (or its waiting room); with a resume token kept for the room (a
   * reload), as the same participant. Resolves to the `joined` frame; rejects with a MeetingError (e.g.
   * `no_access`, `banned`, `meeting_not_started`, `invalid_token`). */
  async join() {
    if (this.state !== "new") throw new MeetingError("already_joined", "join was called already");
    this.state = "connecting";
    let joined;
    for (let redirects = 0; ; redirects += 1) {
      try {
        await this._connect();
        const resume = this.resumeTokens.load(this.roomId);
        const frame = { type: "join", token: await this._token(), room_id: this.roomId };
        if (resume) Object.assign(frame, { resume, keep_media: false }); // a new page has no peer connections
        /** whether this join presented a resume token (a reload); `joined.resumed` without one means that
         * this socket took over the person's participant from another tab (docs/signaling.md) */
        this.resumeSent = Boolean(resume);
        joined = await this.signaling.request(frame);
        break;
      } catch (error) {
        // another replica runs the meeting: join there (this socket closes with 4307)
        if (error.code !== "meeting_elsewhere" || !error.url || redirects >= MAX_REDIRECTS) {
          if (error.code === "meeting_elsewhere") this._closed(CLOSE_ELSEWHERE, "too many redirects");
          throw error;
        }
        this.url = error.url;
        this.signaling = this._newSignaling();
      }
    }
    this.state = "joined";
    this._remember(joined);
    this.signaling.startPing();
    return joined;
  }

  /** Open a new current signaling socket: over WebTransport where the home server offers it and it
   * opens, else (no WebTransport in the browser, timeout, refused, an unaccepted certificate) over the
   * WebSocket. A replica the Meeting was redirected to is reached by its WebSocket. A WebTransport try
   * that fails is not the current socket yet, so its close ends nothing. */
  async _connect() {
    if (this.webTransport && this.url === this.homeUrl) {
      const hashes = this.webTransport.certificateHashes || [];
      const choice = await chooseTransport({ webTransportUrl: this.webTransport.url, websocketUrl: this.url,
        WebSocketImpl: this.WebSocketImpl, serverCertificateHashes: hashes.length ? certificateHashes(hashes) : null });
      if (choice.kind === "webtransport") {
        const attempt = this._newSignaling(choice.url, choice.WebSocketImpl);
        try {
          await attempt.connect();
          this.signaling = attempt;
          this.transport = "webtransport";
          return attempt;
        } catch {
          attempt.close(1000, "falling back to the WebSocket");
        }
      }
    }
    this.signaling = this._newSignaling();
    this.transport = "websocket";
    await this.signaling.connect();
    return this.signaling;
  }

  /** Send a frame that may be lost or reordered (a remote-control pointer move): as a datagram over
   * WebTransport, else as an ordinary frame whose answer nobody waits for. */
  sendUnordered(frame) {
    if (!this.signaling.sendDatagram(frame)) this.signaling.request(frame).catch(() => {});
  }

  /** Send a frame only as a datagram (a whiteboard preview: worth nothing late); false where the
   * connection has none (the WebSocket). */
  sendDatagram(frame) {
    return this.signaling.sendDatagram(frame);
  }

  /** Whether this meeting's connection carries datagrams (WebTransport). */
  get datagrams() { return this.signaling.datagrams; }

  /** `token` may be a function (e.g. `() => podium.accessToken()`, which refreshes an expiring access
   * token): a resume an hour into the meeting needs a token that is still valid. */
  async _token() {
    return typeof this.token === "function" ? this.token() : this.token;
  }

  /** What every `joined` (the first, and each resume's) brings for later: the resume token, and the
   * ICE servers (fresh TURN credentials) for the peer connections made from now on. */
  _remember(joined) {
    this.joined = joined; // the last `joined` (app/recording.js reads the indicator's state from it)
    if (joined.resume_token) this.resumeTokens.save(this.roomId, joined.resume_token);
    this.media.useIceServers(joined.ice_servers);
  }

  // -- losing the connection, and resuming (lib/reconnect.js) -------------------------------------

  _socketClosed(code, reason) {
    if (code === CLOSE_ELSEWHERE && this.state === "connecting") return; // join() follows the redirect
    // not joined, or leaving (leave() ended the reconnect machine, which then ignores a close): over at once
    if (this.state !== "joined" || this.reconnect.state === "ended") {
      this._closed(code, reason);
      return;
    }
    this._follow(this.reconnect.closed(code, Date.now()), code, reason);
  }

  _peerState(name, state) {
    if (this.state !== "joined") return;
    this._follow(this.reconnect.peer(name, state, Date.now()));
  }

  /** Carry out an action of the reconnect machine. */
  _follow(action, code = 1006, reason = "") {
    if (!action) return;
    if (action.type === "end") {
      this._closed(code, reason);
    } else if (action.type === "check") {
      this._timers.clearTimeout(this._check);
      this._check = this._timers.setTimeout(() => this._follow(this.reconnect.tick(Date.now())), action.delay);
    } else if (action.type === "retry") {
      if (this.connection !== "reconnecting") {
        this.connection = "reconnecting";
        const old = this.signaling;
        this.signaling = this._newSignaling(); // the old one's close no longer counts
        old.close(4000, "reconnecting");
        this._emit("reconnecting", { reason: code === 1006 && !reason ? "connection lost" : reason || String(code) });
      }
      this._timers.setTimeout(() => this._resume(), action.delay);
    }
  }

  /** One try: a new socket, `join` with the resume token; on failure, the machine says what next. */
  async _resume() {
    if (this.state !== "joined" || this.connection !== "reconnecting") return;
    const keepMedia = this.media.intact();
    let signaling = null;
    try {
      signaling = await this._connect();
      const frame = { type: "join", token: await this._token(), room_id: this.roomId, keep_media: keepMedia };
      const resume = this.resumeTokens.load(this.roomId);
      if (resume) frame.resume = resume;
      this._resuming = true;
      await signaling.request(frame);
    } catch (error) {
      this._resuming = false;
      signaling = signaling || this.signaling; // the WebSocket that did not open
      if (signaling === this.signaling) signaling.close(4000, "retrying");
      const code = error instanceof MeetingError ? error.code : "closed";
      this.url = nextUrl(this.homeUrl, this.url, code, error.url);
      if (code === "meeting_elsewhere" && this._redirects < MAX_REDIRECTS) {
        this._redirects += 1; // to the replica that runs the meeting, at once
        this._timers.setTimeout(() => this._resume(), 0);
        return;
      }
      const action = this.reconnect.failed(code, Date.now());
      if (action && action.type === "end") {
        this.resumeTokens.forget(this.roomId);
        if (code !== "gave_up" && code !== "closed") this._emit("error", error);
      }
      this._follow(action, action && action.type === "end" ? 1006 : undefined, code);
      return;
    }
    this._redirects = 0;
    signaling.startPing();
  }

  /** The `joined` of a resume: connected again; keep the peer connections, or make new ones and publish
   * again. Run as the frame arrives, before any frame after it (a subscribe offer for new connections). */
  _resumed(joined) {
    this._resuming = false;
    this.reconnect.resumed();
    this.connection = "connected";
    this._remember(joined);
    if (!joined.resumed || joined.media === "renew") {
      this.media.reconnect().catch((error) => this._emit("error", new MeetingError("reconnect", String(error.message || error))));
    }
    this._emit("reconnected", joined);
  }

  _closed(code, reason) {
    if (this.state === "closed") return;
    this.state = "closed";
    this.reconnect.end();
    this._timers.clearTimeout(this._check);
    this.resumeTokens.forget(this.roomId);
    this.media.close();
    this._emit("closed", { code, reason, disconnect: this.room.disconnect });
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // -- server frames: the room through the reducer, then media, then events ----------------------

  /** A frame that came as a datagram (docs/signaling.md, "Datagrams"): emitted unless a later one of
   * its stream came first (`control-input` by its session's `seq`, `whiteboard-preview` by its
   * author's `n`); it never changes the room. */
  _onDatagram(frame) {
    const key = frame.type === "control-input" ? `input:${frame.session_id}` :
      frame.type === "whiteboard-preview" ? `preview:${frame.author}` : null;
    const number = frame.type === "control-input" ? frame.seq : frame.n;
    if (key === null || !Number.isInteger(number)) return;
    if (number <= (this._latest.get(key) ?? 0)) return; // late, or duplicated
    this._latest.set(key, number);
    this._emit(frame.type, frame);
  }

  _onFrame(frame, reply) {
    if (frame.type === "joined") this._latest.clear(); // a new connection: numbers may start again
    if (frame.type === "control-input") { // ordered: always shown, and what came before it is late
      const key = `input:${frame.session_id}`;
      this._latest.set(key, Math.max(this._latest.get(key) ?? 0, frame.seq));
    }
    const before = this.room;
    this.room = reduce(before, frame);
    if (reply) {
      if (frame.type === "joined" && this._resuming) this._resumed(frame);
      if (this.room !== before) this._emit("participants", this);
      return;
    }
    const mine = frame.participant_id === this.participantId;
    switch (frame.type) {
      case "subscribe-offer":
        this.media.offer(frame);
        return;
      case "sent-back":
        this.media.allLocalOff();
        break;
      case "track-unpublished":
        this.media.dropRemote(frame.participant_id, frame.source);
        break;
      case "source-changed":
        if (mine) this.media.setLocal(frame.source, frame.on);
        break;
      case "permission-changed":
        if (mine && !frame.held) {
          for (const [source, capability] of Object.entries(CAPABILITY)) if (capability === frame.capability) this.media.setLocal(source, false);
        }
        break;
      case "layers":
        this.media.setLayers(frame.source, frame.active).catch(() => {}); // best effort: the layers keep encoding
        break;
      case "reconnect":
        this.media.reconnect().catch((error) => this._emit("error", new MeetingError("reconnect", String(error.message || error))));
        break;
      default:
        break;
    }
    this._emit(frame.type, frame);
    if (this.room !== before && !NOT_ROOM_EVENTS.has(frame.type)) this._emit("participants", this);
  }

  // -- publishing and subscribing ----------------------------------------------------------------

  /** Publish a local track as a source ("microphone", "camera", "screen", "screen-audio"); without a
   * track, capture one. `on: false` publishes it muted. Publishing a source again replaces its track.
   * Rejects with MeetingError (`permission_missing`, `media`, ...) and then publishes nothing. */
  publish(source, options = {}) { return this.media.publish(source, options); }
  publishMicrophone(options = {}) { return this.publish("microphone", options); }
  publishCamera(options = {}) { return this.publish("camera", options); }
  publishScreen(options = {}) { return this.publish("screen", options); }

  /** Stop publishing a source: the producer is closed in the engine, the local track stopped. */
  unpublish(source) { return this.media.unpublish(source); }

  /** Turn one's own source on or off (mute). Off takes effect locally at once; on only once the server
   * agreed (it refuses without the permission, or without the floor in presenter mode). */
  async setSource(source, on) {
    if (!on) this.media.setLocal(source, false);
    await this.signaling.request({ type: "set-source", source, on });
    if (on) this.media.setLocal(source, true);
  }

  /** Remote tracks of one participant: [{source, kind, track, stream, mid}]. */
  remoteTracks(participantId) { return this.media.remoteTracks(participantId); }

  /** Inbound RTP statistics per remote track: [{participantId, source, kind, mid, packetsReceived,
   * bytesReceived, framesDecoded, totalSamplesReceived, audioLevel}]. */
  receiverStats() { return this.media.receiverStats(); }

  /** Outbound RTP statistics per local source: [{source, packetsSent, bytesSent, framesEncoded}]. */
  senderStats() { return this.media.senderStats(); }

  // -- chat, moderation, leaving ---------------------------------------------------------------

  /** Send a chat message to everyone, or to one participant with `to`. */
  /** How the remote track of `mid` is shown (lib/views.js): its tile's size in device pixels, 0 x 0
   * when not shown. The server picks its simulcast layer from that, or pauses it. */
  view(mid, width, height) {
    return this.media.view(mid, width, height);
  }

  chat(text, { to = null } = {}) {
    return this.signaling.request(to ? { type: "chat", text, to } : { type: "chat", text });
  }

  /** The meeting's stored chat as this participant may see it, oldest first, in the shape of the live
   * `chat` events (`GET /api/v1/meetings/{id}/chat`, a page of CHAT_PAGE at a time): what a reload, or a
   * connection that was down, did not see live. */
  async chatHistory({ fetchImpl = globalThis.fetch.bind(globalThis) } = {}) {
    const messages = [];
    for (let after = null; ;) {
      const query = new URLSearchParams({ limit: String(CHAT_PAGE) });
      if (after !== null) query.set("after_id", String(after));
      const response = await fetchImpl(`${API_PREFIX}/meetings/${encodeURIComponent(this.meetingId)}/chat?${query}`,
        { headers: { Accept: "application/json", Authorization: `Bearer ${await this._token()}` } });
      if (!response.ok) throw new MeetingError("chat_history", `the chat history could not be read (HTTP ${response.status})`);
      const { items } = await response.json();
      for (const m of items) {
        messages.push({ id: m.id, from: m.sender.participant, from_name: m.sender.name, to: m.recipient ? m.recipient.participant : null,
          to_name: m.recipient ? m.recipient.name : null, text: m.text, at: m.sent_at });
      }
      if (items.length < CHAT_PAGE) return messages;
      after = items[items.length - 1].id;
    }
  }

  /** A moderation action (docs/signaling.md): resolves once the engine enforces it. */
  moderate(action, { target, source, capability, person, seconds } = {}) {
    const frame = { type: "moderate", action };
    for (const [name, value] of Object.entries({ target, source, capability, person, seconds })) {
      if (value !== undefined && value !== null) frame[name] = value;
    }
    return this.signaling.request(frame);
  }

  /** Leave the meeting; resolves once the server closed the connection. The only way to leave at once:
   * a closed page, or close(), leaves only once the server's resume grace is over. */
  leave() {
    this.reconnect.end();
    this.resumeTokens.forget(this.roomId);
    if (this.state !== "joined" || this.connection !== "connected") {
      this.close();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.addEventListener("closed", () => resolve(), { once: true });
      try {
        this.signaling.send({ type: "leave", ref: this.signaling.ref() });
      } catch {
        this.close();
      }
      setTimeout(() => this.close(), LEAVE_GRACE_MS);
    });
  }

  /** Close the connection without leaving (the server keeps the participant for its resume grace, then
   * they leave); nothing is resumed from here. */
  close() {
    this.reconnect.end();
    this.signaling.close(1000, "bye");
    this._closed(1000, "closed by the client");
  }
}
