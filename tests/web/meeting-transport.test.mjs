// How a Meeting picks its transport (lib/meeting.js `_connect`, lib/webtransport.js `chooseTransport`):
// WebTransport where the browser has it and the server offers it, and the WebSocket on any failure
// (missing, refused, timeout), on the first join and on each resume.

import { test } from "node:test";
import assert from "node:assert/strict";

import { Meeting } from "../../control/web/lib/meeting.js";
import { ReconnectMachine } from "../../control/web/lib/reconnect.js";
import { chooseTransport, offeredWebTransport } from "../../control/web/lib/webtransport.js";

class FakeWebSocket {
  static all = [];
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeWebSocket.all.push(this);
    setImmediate(() => { this.readyState = 1; this.onopen(); });
  }
  send(text) { this.sent.push(JSON.parse(text)); }
  close() { this.readyState = 3; }
  deliver(frame) { this.onmessage({ data: JSON.stringify(frame) }); }
}

/** A WebTransport whose sessions open, are refused, or never answer, as `FakeWebTransport.mode` says. */
class FakeWebTransport {
  static mode = "open";
  static all = [];
  constructor(url, options) {
    this.url = url;
    this.options = options;
    this.sent = [];
    FakeWebTransport.all.push(this);
    let push;
    this.readable = new ReadableStream({ start: (controller) => { push = controller; } });
    this.deliver = (frame) => push.enqueue(new TextEncoder().encode(`${JSON.stringify(frame)}\n`));
    this.end = () => push.close();
    const mode = FakeWebTransport.mode;
    this.ready = mode === "open" ? Promise.resolve() : mode === "refuse" ? Promise.reject(new Error("refused")) : new Promise(() => {});
    this.ready.catch(() => {});
    this.closed = new Promise(() => {});
    this.datagramsSent = [];
    const datagramsSent = this.datagramsSent;
    let pushDatagram;
    this.datagrams = { writable: new WritableStream({ write: (chunk) => { datagramsSent.push(JSON.parse(new TextDecoder().decode(chunk))); } }),
      readable: new ReadableStream({ start: (controller) => { pushDatagram = controller; } }) };
    this.deliverDatagram = (frame) => pushDatagram.enqueue(new TextEncoder().encode(JSON.stringify(frame)));
  }
  async createBidirectionalStream() {
    const sent = this.sent;
    const writable = new WritableStream({ write: (chunk) => { sent.push(JSON.parse(new TextDecoder().decode(chunk))); } });
    return { readable: this.readable, writable };
  }
  close() { this.closedByClient = true; }
}

const tick = () => new Promise(setImmediate);
const until = async (check) => { for (let i = 0; i < 200 && !check(); i += 1) await tick(); assert.ok(check()); };
const HOME = "wss://podium.test/signaling/v1";
const OFFER = { url: "https://podium.test:4433/signaling/v1", certificateHashes: ["00ff"] };
const you = { id: "p1", name: "p1", label: "p1", role: "participant", registered: true, waiting: false, capabilities: [],
  sources_on: [], floor: false, visiting: null, tracks: [] };
const joinedFrame = (ref, extra = {}) => ({ type: "joined", meeting_id: "m1", room_id: "r1", participant_id: "p1", you,
  participants: [you], waiting: [], presenter_mode: false, chat_enabled: true, names_visible: false, features: {}, ref,
  resume_token: "rt", ...extra });

/** End the meeting here (its socket's keep-alive would hold the test run open). */
function finish(m) {
  m._closed(1000, "done");
  m.signaling.close(1000, "done");
  delete globalThis.WebTransport;
}

function reset(mode) {
  FakeWebSocket.all = [];
  FakeWebTransport.all = [];
  FakeWebTransport.mode = mode;
  globalThis.WebTransport = FakeWebTransport;
}

function meeting() {
  const store = new Map();
  const resumeTokens = { load: (r) => store.get(r), save: (r, t) => store.set(r, t), forget: (r) => store.delete(r) };
  return new Meeting({ token: "t", roomId: "r1", url: HOME, WebSocketImpl: FakeWebSocket, webTransport: OFFER,
    resumeTokens, reconnect: new ReconnectMachine({ delays: [0] }) });
}

test("offered and available: the meeting joins over WebTransport, trusting the published hash", async () => {
  reset("open");
  const m = meeting();
  const joining = m.join();
  await until(() => FakeWebTransport.all.at(-1)?.sent.length === 1);
  const session = FakeWebTransport.all.at(-1);
  assert.equal(FakeWebTransport.all.length, 2); // the probe, then the signaling session
  assert.equal(session.url, OFFER.url);
  assert.deepEqual([...session.options.serverCertificateHashes[0].value], [0, 255]);
  assert.equal(session.sent[0].type, "join");
  session.deliver(joinedFrame(session.sent[0].ref));
  await joining;
  assert.equal(m.transport, "webtransport");
  assert.equal(FakeWebSocket.all.length, 0);
  finish(m);
});

for (const mode of ["refuse", "missing"]) {
  test(`WebTransport ${mode === "refuse" ? "refused" : "missing"}: the meeting joins over the WebSocket`, async () => {
    reset(mode);
    if (mode === "missing") delete globalThis.WebTransport;
    const m = meeting();
    const joining = m.join();
    await until(() => FakeWebSocket.all.at(-1)?.sent.length === 1);
    const ws = FakeWebSocket.all.at(-1);
    assert.equal(ws.url, HOME);
    ws.deliver(joinedFrame(ws.sent[0].ref));
    await joining;
    assert.equal(m.transport, "websocket");
    finish(m);
  });
}

test("a WebTransport session that never opens: the WebSocket after the timeout", async () => {
  reset("hang");
  const chosen = await chooseTransport({ webTransportUrl: OFFER.url, websocketUrl: HOME, WebSocketImpl: FakeWebSocket, timeoutMs: 20 });
  assert.deepEqual([chosen.kind, chosen.url, chosen.WebSocketImpl], ["websocket", HOME, FakeWebSocket]);
  assert.equal(FakeWebTransport.all[0].closedByClient, true);
  delete globalThis.WebTransport;
});

test("a resume tries WebTransport again, and falls back to the WebSocket when it is gone", async () => {
  reset("open");
  const m = meeting();
  const events = [];
  for (const type of ["reconnecting", "reconnected", "closed"]) m.addEventListener(type, () => events.push(type));
  const joining = m.join();
  await until(() => FakeWebTransport.all.at(-1)?.sent.length === 1);
  const first = FakeWebTransport.all.at(-1);
  first.deliver(joinedFrame(first.sent[0].ref));
  await joining;
  FakeWebTransport.mode = "refuse"; // the UDP port is blocked from now on
  first.end(); // the session is lost
  await until(() => FakeWebSocket.all.at(-1)?.sent.length === 1);
  const ws = FakeWebSocket.all.at(-1);
  assert.deepEqual([ws.sent[0].type, ws.sent[0].resume, ws.sent[0].keep_media], ["join", "rt", true]);
  ws.deliver(joinedFrame(ws.sent[0].ref, { resumed: true, media: "kept" }));
  await until(() => events.includes("reconnected"));
  assert.deepEqual(events, ["reconnecting", "reconnected"]);
  assert.equal(m.transport, "websocket");
  finish(m);
});

test("frames that may be lost go as datagrams over WebTransport, and as frames over the WebSocket", async () => {
  const move = { type: "control-event", session_id: "s1", event: { kind: "pointermove", x: 0.5, y: 0.5 } };
  reset("open");
  const m = meeting();
  const joining = m.join();
  await until(() => FakeWebTransport.all.at(-1)?.sent.length === 1);
  const session = FakeWebTransport.all.at(-1);
  session.deliver(joinedFrame(session.sent[0].ref));
  await joining;
  m.sendUnordered(move);
  m.sendUnordered({ ...move, event: { ...move.event, key: "x".repeat(1300) } }); // over the limit: on the stream
  await until(() => session.sent.length === 2);
  m.sendUnordered(move);
  assert.ok(m.sendDatagram({ type: "whiteboard-preview", stroke: 1, color: "#000000", width: 4, points: [[1, 1]] }));
  await until(() => session.datagramsSent.length === 3);
  assert.deepEqual(session.datagramsSent.map((d) => [d.type, d.n]), // numbered, so the server drops late ones
    [["control-event", 1], ["control-event", 2], ["whiteboard-preview", 3]]);
  assert.deepEqual({ ...session.datagramsSent[0], n: undefined }, { ...move, n: undefined });
  assert.equal(session.sent[1].event.key.length, 1300);
  finish(m);

  reset("refuse");
  const w = meeting();
  const joiningWs = w.join();
  await until(() => FakeWebSocket.all.at(-1)?.sent.length === 1);
  const ws = FakeWebSocket.all.at(-1);
  ws.deliver(joinedFrame(ws.sent[0].ref));
  await joiningWs;
  w.sendUnordered(move);
  assert.deepEqual({ ...ws.sent[1], ref: undefined }, { ...move, ref: undefined });
  assert.equal(w.datagrams, false);
  assert.equal(w.sendDatagram({ type: "whiteboard-preview" }), false); // previews only as datagrams: none here
  assert.equal(ws.sent.length, 2);
  finish(w);
});

test("datagrams from the server are emitted unless late: control-input by seq, previews by author's n", async () => {
  reset("open");
  const m = meeting();
  const joining = m.join();
  await until(() => FakeWebTransport.all.at(-1)?.sent.length === 1);
  const session = FakeWebTransport.all.at(-1);
  session.deliver(joinedFrame(session.sent[0].ref));
  await joining;
  assert.equal(m.datagrams, true);
  const inputs = [], previews = [];
  m.addEventListener("control-input", ({ detail }) => inputs.push(detail.seq));
  m.addEventListener("whiteboard-preview", ({ detail }) => previews.push(`${detail.author}:${detail.n}`));
  const input = (seq, kind = "pointermove") => ({ type: "control-input", session_id: "s1", seq, event: { kind, x: 0.1, y: 0.1 } });
  const preview = (author, n) => ({ type: "whiteboard-preview", author, n, stroke: 1, color: "#000000", width: 4, points: [[1, 1]] });
  session.deliverDatagram(input(1));
  session.deliverDatagram(input(3));
  session.deliverDatagram(input(2)); // late: dropped
  session.deliverDatagram(input(3)); // duplicated: dropped
  session.deliverDatagram(preview("p2", 5));
  session.deliverDatagram(preview("p3", 2)); // another author's numbers
  session.deliverDatagram(preview("p2", 4)); // late
  session.deliverDatagram({ type: "chat", text: "not a datagram type" });
  session.deliverDatagram(input(5));
  await until(() => inputs.length === 3);
  session.deliver(input(4, "pointerdown")); // on the stream: ordered, always shown
  session.deliverDatagram(input(5)); // duplicated
  session.deliverDatagram(input(6));
  await until(() => inputs.length === 5);
  assert.deepEqual(inputs, [1, 3, 5, 4, 6]);
  assert.deepEqual(previews, ["p2:5", "p3:2"]);
  finish(m);
});

test("the server's offer, read from /signaling/transports", async () => {
  const base = { href: "https://podium.test/" };
  const answer = (body, ok = true) => async (url) => { assert.equal(String(url), "https://podium.test/signaling/transports");
    return { ok, json: async () => body }; };
  const offered = { websocket: "/signaling/v1", webtransport: { url: OFFER.url, certificate_hashes: ["ab"] } };
  assert.deepEqual(await offeredWebTransport({ fetchImpl: answer(offered), base }), { url: OFFER.url, certificateHashes: ["ab"] });
  assert.equal(await offeredWebTransport({ fetchImpl: answer({ webtransport: null }), base }), null);
  assert.equal(await offeredWebTransport({ fetchImpl: answer({}, false), base }), null);
  assert.equal(await offeredWebTransport({ fetchImpl: async () => { throw new Error("offline"); }, base }), null);
});
