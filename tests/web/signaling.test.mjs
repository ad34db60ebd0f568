// control/web/lib/signaling.js against a fake WebSocket: requests matched to replies by ref, error
// frames as MeetingError, frames that answer nothing, and the close.

import { test } from "node:test";
import assert from "node:assert/strict";

import { MeetingError, REPLIES, Signaling, signalingUrl } from "../../control/web/lib/signaling.js";

/** A WebSocket the test drives: `sent` holds the decoded frames sent; open(), deliver() and
 * serverClose() play the server. */
class FakeWebSocket {
  static last = null;

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    FakeWebSocket.last = this;
  }

  send(text) { this.sent.push(JSON.parse(text)); }
  close(code, reason) { this.closedWith = { code, reason }; this.readyState = 3; }
  open() { this.readyState = 1; this.onopen(); }
  deliver(frame) { this.onmessage({ data: typeof frame === "string" ? frame : JSON.stringify(frame) }); }
  serverClose(code, reason = "") { this.readyState = 3; this.onclose({ code, reason }); }
}

function connected(callbacks = {}) {
  const seen = { frames: [], errors: [], closes: [] };
  const signaling = new Signaling({ url: "ws://podium.test/signaling/v1", WebSocketImpl: FakeWebSocket,
    onFrame: (frame, reply) => seen.frames.push([frame.type, reply]),
    onError: (error) => seen.errors.push(error),
    onClose: (code, reason) => seen.closes.push([code, reason]), ...callbacks });
  const opened = signaling.connect();
  const ws = FakeWebSocket.last;
  ws.open();
  return { signaling, ws, seen, opened };
}

test("signalingUrl follows the page's scheme and host", () => {
  assert.equal(signalingUrl({ protocol: "https:", host: "podium.example:8443" }), "wss://podium.example:8443/signaling/v1");
  assert.equal(signalingUrl({ protocol: "http:", host: "localhost:8000" }), "ws://localhost:8000/signaling/v1");
});

test("a request resolves to the reply with its ref, after onFrame saw it", async () => {
  const { signaling, ws, seen, opened } = connected();
  await opened;
  const first = signaling.request({ type: "ping" });
  const second = signaling.request({ type: "chat", text: "hi" });
  assert.deepEqual(ws.sent, [{ type: "ping", ref: "1" }, { type: "chat", text: "hi", ref: "2" }]);
  ws.deliver({ type: "ok", ref: "2" });
  ws.deliver({ type: "pong", ref: "1" });
  assert.deepEqual(await first, { type: "pong", ref: "1" });
  assert.deepEqual(await second, { type: "ok", ref: "2" });
  assert.deepEqual(seen.frames, [["ok", true], ["pong", true]]);
});

test("an error frame rejects its request with a MeetingError", async () => {
  const { signaling, ws, seen } = connected();
  const request = signaling.request({ type: "set-source", source: "microphone", on: true });
  ws.deliver({ type: "error", code: "floor_required", message: "presenter mode", ref: "1" });
  await assert.rejects(request, (error) => error instanceof MeetingError && error.code === "floor_required");
  assert.deepEqual(seen.errors, []);
});

test("an error frame that answers nothing goes to onError", () => {
  const { ws, seen } = connected();
  ws.deliver({ type: "error", code: "sdp", message: "bad answer", ref: null });
  ws.deliver({ type: "error", code: "stale", message: "old", ref: "77" });
  assert.deepEqual(seen.errors.map((e) => e.code), ["sdp", "stale"]);
});

test("events, and reply types without a pending request, are frames that answer nothing", () => {
  const { ws, seen } = connected();
  ws.deliver({ type: "participant-left", participant_id: "p2", reason: "left" });
  ws.deliver({ type: "ok", ref: "9" });
  ws.deliver({ type: "subscribe-offer", sdp: "v=0", version: 1, consumers: [], ref: null });
  assert.deepEqual(seen.frames, [["participant-left", false], ["ok", false], ["subscribe-offer", false]]);
});

test("an event carrying a pending ref does not answer the request", async () => {
  const { signaling, ws, seen } = connected();
  let settled = false;
  const request = signaling.request({ type: "ping" }).finally(() => { settled = true; });
  ws.deliver({ type: "chat", id: 1, text: "hi", ref: "1" });
  await Promise.resolve();
  assert.equal(settled, false);
  assert.deepEqual(seen.frames, [["chat", false]]);
  ws.deliver({ type: "pong", ref: "1" });
  await request;
});

test("what is not a JSON object with a type is ignored", () => {
  const { ws, seen } = connected();
  for (const data of ["not json", "null", "42", JSON.stringify({ code: "x" }), JSON.stringify({ type: 3 })]) ws.deliver(data);
  assert.deepEqual(seen.frames, []);
  assert.deepEqual(seen.errors, []);
});

test("the server's close rejects pending requests and reports the code once", async () => {
  const { signaling, ws, seen } = connected();
  const request = signaling.request({ type: "moderate", action: "ban", target: "p2" });
  ws.serverClose(4003, "refused");
  ws.serverClose(4003, "refused");
  await assert.rejects(request, (error) => error.code === "closed");
  assert.deepEqual(seen.closes, [[4003, "refused"]]);
  assert.equal(signaling.closed, true);
  assert.throws(() => signaling.send({ type: "ping" }), (error) => error.code === "closed");
});

test("closing before the socket opened rejects connect()", async () => {
  const signaling = new Signaling({ url: "ws://podium.test/signaling/v1", WebSocketImpl: FakeWebSocket });
  const opened = signaling.connect();
  FakeWebSocket.last.serverClose(1006);
  await assert.rejects(opened, (error) => error.code === "closed" && error.message.includes("1006"));
});

test("close() closes the socket and finishes at once", async () => {
  const { signaling, ws, seen } = connected();
  const request = signaling.request({ type: "ping" });
  signaling.close(1000, "bye");
  assert.deepEqual(ws.closedWith, { code: 1000, reason: "bye" });
  await assert.rejects(request, (error) => error.code === "closed");
  assert.deepEqual(seen.closes, [[1000, "closed by the client"]]);
});

test("a request on a closed socket rejects at once", async () => {
  const signaling = new Signaling({ url: "ws://podium.test/signaling/v1", WebSocketImpl: FakeWebSocket });
  await assert.rejects(signaling.request({ type: "ping" }), (error) => error.code === "closed");
});

test("a request without an answer times out", async () => {
  const { signaling } = connected();
  await assert.rejects(signaling.request({ type: "ping" }, 10), (error) => error.code === "timeout");
});

test("REPLIES names the reply frames of docs/signaling.md", () => {
  assert.deepEqual([...REPLIES].sort(), ["joined", "moderated", "ok", "pong", "producer-closed", "publish-answer"]);
});
