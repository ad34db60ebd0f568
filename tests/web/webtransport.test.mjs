// Signaling over WebTransport (control/web/lib/webtransport.js) against a fake WebTransport: frames as lines
// both ways (split across chunks), the server's close record as the close code, the fallback choice.

import { test } from "node:test";
import assert from "node:assert/strict";

import { WebTransportSocket, certificateHashes, chooseTransport } from "../../control/web/lib/webtransport.js";

class FakeWebTransport {
  constructor(url, options) {
    FakeWebTransport.last = this;
    this.url = url;
    this.options = options;
    this.written = [];
    let push;
    this.readable = new ReadableStream({ start: (controller) => { push = controller; } });
    this.push = (text) => push.enqueue(new TextEncoder().encode(text));
    this.end = () => push.close();
    this.ready = Promise.resolve();
    this.closed = new Promise(() => {});
  }
  async createBidirectionalStream() {
    const written = this.written;
    const writable = new WritableStream({ write: (chunk) => { written.push(new TextDecoder().decode(chunk)); } });
    return { readable: this.readable, writable };
  }
  close() { this.closedByClient = true; }
}

test("frames travel as lines; the close record gives the close code", async () => {
  globalThis.WebTransport = FakeWebTransport;
  const socket = new WebTransportSocket("https://127.0.0.1:4433/signaling/v1", { serverCertificateHashes: [] });
  const opened = new Promise((resolve) => { socket.onopen = resolve; });
  const got = [];
  socket.onmessage = (event) => got.push(JSON.parse(event.data));
  const closed = new Promise((resolve) => { socket.onclose = resolve; });
  await opened;
  socket.send(JSON.stringify({ type: "ping", ref: "1" }));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(FakeWebTransport.last.written, ['{"type":"ping","ref":"1"}\n']);
  const fake = FakeWebTransport.last;
  fake.push('{"type":"pong","ref":"1"}\n{"type":"whiteboard-op","op":{"se');
  fake.push('q":1}}\n{"type":"close","code":4003,"reason":"banned"}\n');
  fake.end();
  const event = await closed;
  assert.deepEqual(got, [{ type: "pong", ref: "1" }, { type: "whiteboard-op", op: { seq: 1 } }]);
  assert.deepEqual([event.code, event.reason], [4003, "banned"]);
  assert.equal(socket.readyState, 3);
});

test("certificate hashes from hex digests, and the WebSocket when WebTransport is missing", async () => {
  const [hash] = certificateHashes(["00ff10"]);
  assert.equal(hash.algorithm, "sha-256");
  assert.deepEqual([...hash.value], [0, 255, 16]);
  delete globalThis.WebTransport;
  const base = { protocol: "https:", host: "podium.test" };
  const chosen = await chooseTransport({ webTransportUrl: "https://podium.test:4433/signaling/v1", base });
  assert.equal(chosen.kind, "websocket");
  assert.equal(chosen.url, "wss://podium.test/signaling/v1");
  globalThis.WebTransport = FakeWebTransport;
  const picked = await chooseTransport({ webTransportUrl: "https://podium.test:4433/signaling/v1", base });
  assert.equal(picked.kind, "webtransport");
  delete globalThis.WebTransport;
});
