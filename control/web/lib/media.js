// The media half of a meeting: two RTCPeerConnections to the engine worker (publish: we offer, one
// `sendonly` transceiver per source; subscribe: the server offers, one m-section per consumer), the
// local tracks and their on/off switch, the remote tracks by mid, and RTP statistics. The subscribe
// connection is one transport for the whole meeting: the server keeps every m-section in its BUNDLE
// group (an ended consumer's goes `inactive`, and may carry a later consumer of its kind). Signaling
// reaches it through the `request` function it is given; it tells the Meeting what happened through
// `emit`.

import { MeetingError } from "./signaling.js";

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

/** Emits (through `emit(type, detail)`):
 *   "track"        {participantId, source, kind, track, stream, mid}: remote media to show or play
 *   "track-ended"  {participantId, source, mid}
 *   "local"        {source, track, on}: a local source was published, turned on or off, or unpublished
 *   "error"        a MeetingError from answering a subscribe offer */
/** The simulcast layers a camera or screen share is published with, lowest first (the server takes
 * the first as the lowest: docs/signaling.md, "Simulcast"). */
export const SIMULCAST_ENCODINGS = [
  { rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "f", scaleResolutionDownBy: 1, maxBitrate: 2_500_000 },
];

/** The layers worth sending of a picture `height` pixels tall, lowest first: three from 540 lines,
 * two (half and full) from 270, else none (one plain stream). Chromium sends no more than that for
 * such a picture: a layer asked for beyond it would be negotiated and never sent, and a subscriber
 * switched to it would wait for it in vain. */
export function simulcastEncodings(height) {
  const count = height >= 540 ? 3 : height >= 270 ? 2 : 0;
  return SIMULCAST_ENCODINGS.slice(SIMULCAST_ENCODINGS.length - count).map((e) => ({ ...e }));
}

/** Set `encodings[i].active` of RTCRtpSendParameters to whether `i` is in `active`; true when that
 * changed anything. A sender of one encoding (no simulcast) is left alone. */
export function activateLayers(parameters, active) {
  const encodings = parameters.encodings || [];
  if (encodings.length < 2) return false;
  const on = new Set(active);
  let changed = false;
  encodings.forEach((encoding, i) => {
    const want = on.has(i);
    if (encoding.active !== want) {
      encoding.active = want;
      changed = true;
    }
  });
  return changed;
}

export class Media {
  constructor({ rtcConfiguration = {}, request, emit, joined = () => true, onConnectionState = () => {}, simulcast = true }) {
    this.simulcast = simulcast;
    this._layering = Promise.resolve();
    /** mid → the last [width, height] sent in a `view` frame */
    this._views = new Map();
    this.rtcConfiguration = { iceServers: [], bundlePolicy: "max-bundle", rtcpMuxPolicy: "require", ...rtcConfiguration };
    this._request = request;
    this._emit = emit;
    this._joined = joined;
    /** source → {source, track, transceiver, on} */
    this.local = new Map();
    /** mid → {consumer, track, stream, receiver} */
    this.remote = new Map();
    /** the last publish-answer's producers */
    this.producers = [];
    /** mid → consumer object of the subscribe offers */
    this.consumers = new Map();
    this.pub = null;
    this.sub = null;
    this._publishing = Promise.resolve();
    this._subscribing = Promise.resolve();
    /** settles once the answer to the last subscribe offer was sent (or could not be) */
    this._answerSent = Promise.resolve();
    /** bumped by `reconnect`: a subscribe offer queued before it is for a connection that is gone */
    this._generation = 0;
    this._onConnectionState = onConnectionState;
    /** publishing steps started and not finished: a resume then cannot keep the media as it is */
    this._inFlight = 0;
  }

  /** Add the server's RTCIceServer objects (TURN with this participant's credentials, from `joined`)
   * to the ones the application gave; peer connections made from now on use them all. */
  useIceServers(servers = []) {
    const given = this._givenIceServers ??= this.rtcConfiguration.iceServers ?? [];
    this.rtcConfiguration = { ...this.rtcConfiguration, iceServers: [...given, ...servers] };
  }

  /** `name`: "publish" or "subscribe", for the connection-state reports (lib/reconnect.js). */
  _newPeerConnection(name) {
    const pc = new RTCPeerConnection(this.rtcConfiguration);
    pc.addEventListener("connectionstatechange", () => {
      if (pc === this.pub || pc === this.sub) this._onConnectionState(name, pc.connectionState);
    });
    return pc;
  }

  /** Whether a resume may keep the media as it is: every peer connection there is is connected, and no
   * publishing step is under way (docs/signaling.md, "Resuming", `keep_media`). */
  intact() {
    if (this._inFlight) return false;
    return [this.pub, this.sub].every((pc) => !pc || pc.connectionState === "connected");
  }

  /** Run publishing steps one at a time, in call order, whether the previous one failed or not. */
  _serially(run) {
    const counted = async () => {
      this._inFlight += 1;
      try {
        return await run();
      } finally {
        this._inFlight -= 1;
      }
    };
    const result = this._publishing.then(counted, counted);
    this._publishing = result.catch(() => {});
    return result;
  }

  // -- publishing ------------------------------------------------------------------------------

  /** See Meeting.publish. */
  publish(source, { track = null, on = true, constraints = true } = {}) {
    return this._serially(async () => {
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
      if (!this.pub) this.pub = this._newPeerConnection("publish");
      const transceiver = this._addSender(media);
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
    });
  }

  /** A send-only transceiver for `media`: video in simulcast layers where the browser can. */
  _addSender(media) {
    const init = { direction: "sendonly", streams: [new MediaStream([media])] };
    const encodings = this.simulcast && media.kind === "video" ? simulcastEncodings(media.getSettings?.().height || 0) : [];
    if (encodings.length > 1) {
      try {
        return this.pub.addTransceiver(media, { ...init, sendEncodings: encodings });
      } catch {
        // a browser without simulcast: one stream
      }
    }
    return this.pub.addTransceiver(media, init);
  }

  /** The server's `layers` frame (docs/signaling.md): encode only the simulcast layers of `source`
   * that somebody consumes (indices into its encodings, lowest first), stop the others. Calls run one
   * after another: a sender takes one setParameters at a time, each on fresh parameters. */
  setLayers(source, active) {
    const run = async () => {
      const entry = this.local.get(source);
      const sender = entry?.transceiver.sender;
      if (!sender?.getParameters || !sender.setParameters) return false;
      const parameters = sender.getParameters();
      if (!activateLayers(parameters, active)) return false;
      await sender.setParameters(parameters);
      return true;
    };
    const result = this._layering.then(run, run);
    this._layering = result.catch(() => {});
    return result;
  }

  async _negotiatePublish(muted) {
    const pc = this.pub;
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    // The answer to a subscribe offer received by now goes out first: remote media waits on it, and the
    // server takes one change at a time, in arrival order (a publish behind it is a moment later).
    await this._answerSent;
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
    return this._serially(async () => {
      const entry = this.local.get(source);
      if (!entry) return;
      this.local.delete(source);
      if (entry.track) entry.track.stop();
      entry.transceiver.stop();
      this._emit("local", { source, track: null, on: false });
      if (this._joined()) await this._request({ type: "close-producer", source });
    });
  }

  /** Turn a published source's track on or off here (the server's switch is the Meeting's business). */
  setLocal(source, on) {
    const entry = this.local.get(source);
    if (!entry) return;
    entry.on = on;
    if (entry.track) entry.track.enabled = on;
    this._emit("local", { source, track: entry.track, on });
  }

  /** Turn every published source off here (sent back to the waiting room). */
  allLocalOff() {
    for (const source of this.local.keys()) this.setLocal(source, false);
  }

  // -- subscribing -----------------------------------------------------------------------------

  /** Answer a `subscribe-offer`, after the ones before it; a failure is emitted as "error". */
  offer(frame) {
    const generation = this._generation;
    let sent;
    this._answerSent = new Promise((resolve) => { sent = resolve; });
    this._subscribing = this._subscribing.then(() => {
      if (generation === this._generation) return this._answer(frame, sent);
    }).catch((error) => {
      if (generation !== this._generation) return; // the connection it was for is gone
      this._emit("error", error instanceof MeetingError ? error : new MeetingError("sdp", String(error.message || error)));
    }).finally(sent);
  }

  /** `sent()` is called once the answer is on its way, before the server acknowledges it. */
  async _answer(frame, sent = () => {}) {
    if (!this.sub) {
      this.sub = this._newPeerConnection("subscribe");
      this.sub.ontrack = (event) => this._onTrack(event);
    }
    for (const consumer of frame.consumers) {
      // an m-section whose consumer ended may carry another one now (the server reuses inactive
      // sections of the same kind): the old remote track ends before the new one arrives by `ontrack`
      const remote = this.remote.get(consumer.mid);
      if (remote && remote.consumer.consumer_id !== consumer.consumer_id) this._drop(consumer.mid);
      this.consumers.set(consumer.mid, consumer);
    }
    await this.sub.setRemoteDescription({ type: "offer", sdp: frame.sdp });
    const answer = await this.sub.createAnswer();
    await this.sub.setLocalDescription(answer);
    const acknowledged = this._request({ type: "subscribe-answer", sdp: this.sub.localDescription.sdp, version: frame.version });
    sent();
    await acknowledged;
    for (const consumer of frame.consumers) {
      if (!consumer.active && this.remote.has(consumer.mid)) this._drop(consumer.mid);
    }
  }

  _onTrack(event) {
    const mid = event.transceiver.mid;
    const consumer = this.consumers.get(mid);
    if (!consumer || !consumer.active) return;
    const stream = new MediaStream([event.track]);
    this.remote.set(mid, { consumer, track: event.track, stream, receiver: event.receiver });
    this._emit("track", { participantId: consumer.participant_id, source: consumer.source, kind: consumer.kind,
      track: event.track, stream, mid });
  }

  /** Report how the remote track of `mid` is shown: its tile's size in device pixels, 0 x 0 when not
   * shown (a `view` frame, only when it changed); the server picks its simulcast layer, or pauses it. */
  async view(mid, width, height) {
    const remote = this.remote.get(mid);
    if (!remote) return;
    const last = this._views.get(mid);
    if (last && last[0] === width && last[1] === height && last[2] === remote.consumer.consumer_id) return;
    this._views.set(mid, [width, height, remote.consumer.consumer_id]);
    try {
      await this._request({ type: "view", consumer_id: remote.consumer.consumer_id, width, height });
    } catch {
      this._views.delete(mid); // said again at the next change
    }
  }

  _drop(mid) {
    const { consumer } = this.remote.get(mid);
    this._views.delete(mid);
    this.remote.delete(mid);
    this._emit("track-ended", { participantId: consumer.participant_id, source: consumer.source, mid });
  }

  /** Forget the remote tracks of one participant's source (it was unpublished). */
  dropRemote(participantId, source) {
    for (const [mid, remote] of this.remote) {
      if (remote.consumer.participant_id === participantId && remote.consumer.source === source) this._drop(mid);
    }
  }

  /** Remote tracks of one participant: [{source, kind, track, stream, mid}]. */
  remoteTracks(participantId) {
    return [...this.remote.entries()].filter(([, r]) => r.consumer.participant_id === participantId)
      .map(([mid, r]) => ({ source: r.consumer.source, kind: r.consumer.kind, track: r.track, stream: r.stream, mid }));
  }

  // -- statistics ------------------------------------------------------------------------------

  /** See Meeting.receiverStats. */
  async receiverStats() {
    const rows = [];
    for (const [mid, remote] of this.remote) {
      const inbound = await statsOf(remote.receiver, "inbound-rtp");
      rows.push({ participantId: remote.consumer.participant_id, source: remote.consumer.source, kind: remote.consumer.kind,
        mid, packetsReceived: inbound.packetsReceived || 0, bytesReceived: inbound.bytesReceived || 0,
        framesDecoded: inbound.framesDecoded || 0, totalSamplesReceived: inbound.totalSamplesReceived || 0,
        audioLevel: inbound.audioLevel || 0 });
    }
    return rows;
  }

  /** See Meeting.senderStats. */
  async senderStats() {
    const rows = [];
    for (const [source, entry] of this.local) {
      const outbound = await statsOf(entry.transceiver.sender, "outbound-rtp");
      rows.push({ source, packetsSent: outbound.packetsSent || 0, bytesSent: outbound.bytesSent || 0,
        framesEncoded: outbound.framesEncoded || 0 });
    }
    return rows;
  }

  // -- closing, and the worker was lost: new connections, the same tracks ------------------------

  /** Close both peer connections; every remote track ends. Local tracks are kept. */
  closeConnections() {
    for (const pc of [this.pub, this.sub]) if (pc) pc.close();
    this.pub = null;
    this.sub = null;
    for (const mid of [...this.remote.keys()]) this._drop(mid);
    this.consumers.clear();
  }

  /** Close everything, local tracks included (the meeting is over). */
  close() {
    this.closeConnections();
    for (const entry of this.local.values()) if (entry.track) entry.track.stop();
  }

  /** After `reconnect`, or a resume whose media is renewed: new peer connections, publishing every local
   * track again with its switch. */
  async reconnect() {
    const entries = [...this.local.values()];
    this._generation += 1;
    this.closeConnections();
    this.local.clear();
    for (const entry of entries) await this.publish(entry.source, { track: entry.track, on: entry.on });
  }
}

/** The last statistics entry of one type of a sender's or receiver's report (empty when none). */
async function statsOf(endpoint, type) {
  const report = await endpoint.getStats();
  let found = {};
  report.forEach((s) => { if (s.type === type) found = s; });
  return found;
}
