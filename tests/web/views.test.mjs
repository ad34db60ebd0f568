// control/web/lib/views.js: the size a remote video is shown at, settled, 0 x 0 while not shown; and
// control/web/lib/media.js publishing video in simulcast layers and sending `view` frames.

import { test } from "node:test";
import assert from "node:assert/strict";

import { SETTLE_MS, shownSize, watchShown } from "../../control/web/lib/views.js";
import { Media, SIMULCAST_ENCODINGS, simulcastEncodings } from "../../control/web/lib/media.js";

test("the shown size is in device pixels, and 0 x 0 when hidden", () => {
  assert.deepEqual(shownSize({ width: 320, height: 180 }, true, true, 2), [640, 360]);
  assert.deepEqual(shownSize({ width: 320.4, height: 180.6 }, true, true), [320, 181]);
  assert.deepEqual(shownSize({ width: 320, height: 180 }, false, true), [0, 0]);
  assert.deepEqual(shownSize({ width: 320, height: 180 }, true, false), [0, 0]);
  assert.deepEqual(shownSize({ width: 0, height: 0 }, true, true), [0, 0]);
});

function fakeEnv() {
  const env = { devicePixelRatio: 1, timers: new Map(), next: 1, listeners: new Set(), observers: [] };
  env.setTimeout = (fn) => { const id = env.next++; env.timers.set(id, fn); return id; };
  env.clearTimeout = (id) => env.timers.delete(id);
  env.flush = () => { const due = [...env.timers.values()]; env.timers.clear(); due.forEach((fn) => fn()); };
  env.document = { visibilityState: "visible", addEventListener: (_, fn) => env.listeners.add(fn),
    removeEventListener: (_, fn) => env.listeners.delete(fn) };
  env.ResizeObserver = class { constructor(fn) { this.fn = fn; env.observers.push(this); } observe() {} disconnect() { this.off = true; } };
  env.IntersectionObserver = class { constructor(fn) { this.fn = fn; env.observers.push(this); } observe() {} disconnect() { this.off = true; } };
  return env;
}

test("changes are reported once settled, and only when the size changed", () => {
  const env = fakeEnv();
  const element = { rect: { width: 320, height: 180 }, getBoundingClientRect() { return this.rect; } };
  const reports = [];
  const stop = watchShown(element, (w, h) => reports.push([w, h]), env);
  env.flush();
  assert.deepEqual(reports, [[320, 180]]);
  const [resize, intersection] = env.observers;
  element.rect = { width: 1280, height: 720 };
  resize.fn();
  resize.fn(); // dragged: one report after the quiet period
  assert.equal(env.timers.size, 1);
  env.flush();
  intersection.fn([{ isIntersecting: false }]);
  env.flush();
  resize.fn(); // nothing new: no report
  env.flush();
  env.document.visibilityState = "hidden";
  intersection.fn([{ isIntersecting: true }]);
  env.flush();
  env.document.visibilityState = "visible";
  [...env.listeners][0]();
  env.flush();
  assert.deepEqual(reports, [[320, 180], [1280, 720], [0, 0], [1280, 720]]);
  stop();
  assert.ok(env.observers.every((o) => o.off) && env.listeners.size === 0);
  assert.ok(SETTLE_MS > 0);
});

test("the layers follow the picture's height, lowest first", () => {
  assert.deepEqual(simulcastEncodings(720).map((e) => [e.rid, e.scaleResolutionDownBy]), [["q", 4], ["h", 2], ["f", 1]]);
  assert.deepEqual(simulcastEncodings(1080).map((e) => e.rid), ["q", "h", "f"]);
  assert.deepEqual(simulcastEncodings(480).map((e) => [e.rid, e.scaleResolutionDownBy]), [["h", 2], ["f", 1]]);
  assert.deepEqual(simulcastEncodings(269), []);
  simulcastEncodings(720)[0].rid = "x"; // copies: the table stays as it is
  assert.equal(SIMULCAST_ENCODINGS[0].rid, "q");
});

test("video is published in simulcast layers, audio and small pictures in one stream", async () => {
  const added = [];
  const media = new Media({ request: async () => ({ sdp: "v=0", producers: [] }), emit: () => {} });
  globalThis.MediaStream ??= class { constructor(tracks) { this.tracks = tracks; } };
  media.pub = { addTransceiver: (track, init) => { added.push([track.kind, init.sendEncodings]); return {}; } };
  const video = (height) => ({ kind: "video", getSettings: () => ({ height }) });
  media._addSender(video(720));
  media._addSender({ kind: "audio" });
  media._addSender(video(180));
  assert.deepEqual(added[0][1].map((e) => e.rid), ["q", "h", "f"]);
  assert.equal(added[1][1], undefined);
  assert.equal(added[2][1], undefined);
  // a browser that refuses sendEncodings gets one stream
  const plain = new Media({ request: async () => ({}), emit: () => {} });
  plain.pub = { addTransceiver: (track, init) => { if (init.sendEncodings) throw new Error("no"); return { init }; } };
  assert.equal(plain._addSender(video(720)).init.sendEncodings, undefined);
});

test("view frames name the consumer and are sent only when the size changed", async () => {
  const frames = [];
  const media = new Media({ request: async (frame) => { frames.push(frame); return { type: "ok" }; }, emit: () => {} });
  media.remote.set("1", { consumer: { consumer_id: "b.c1", participant_id: "a", source: "camera" } });
  await media.view("1", 320, 180);
  await media.view("1", 320, 180);
  await media.view("1", 0, 0);
  await media.view("9", 10, 10); // no such track: nothing
  assert.deepEqual(frames, [
    { type: "view", consumer_id: "b.c1", width: 320, height: 180 },
    { type: "view", consumer_id: "b.c1", width: 0, height: 0 },
  ]);
});
