// The settings report and proposals (control/web/lib/capture-report.js).

import { test } from "node:test";
import assert from "node:assert/strict";

import { captureOf, constraintsOf, describeProposal, devicesOf, withBitrate } from "../../control/web/lib/capture-report.js";

test("devices: inputs and outputs only, labels cut", () => {
  const infos = [{ kind: "videoinput", deviceId: "c1", label: "Cam" }, { kind: "other", deviceId: "x", label: "" },
    { kind: "audioinput", deviceId: "m1", label: "x".repeat(300) }];
  const devices = devicesOf(infos);
  assert.deepEqual(devices.map((d) => d.kind), ["videoinput", "audioinput"]);
  assert.equal(devices[1].label.length, 200);
});

test("capture: settings and the sender's bitrate, measured when none is set", () => {
  const settings = { deviceId: "c1", width: 1280, height: 720, frameRate: 29.97 };
  assert.deepEqual(captureOf("camera", { settings, label: "Cam", parameters: { encodings: [{ maxBitrate: 900000 }] } }),
    { source: "camera", on: true, label: "Cam", device_id: "c1", width: 1280, height: 720, frame_rate: 29.97, bitrate: 900000 });
  assert.equal(captureOf("camera", { settings, measuredBitrate: 1234.6 }).bitrate, 1235);
  assert.equal(captureOf("microphone", { settings: { sampleRate: 48000 }, on: false }).on, false);
});

test("a proposal becomes constraints, a bitrate cap and words", () => {
  const proposal = { source: "camera", width: 640, height: 360, frame_rate: 15, bitrate: 500000 };
  assert.deepEqual(constraintsOf(proposal), { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15 } });
  assert.deepEqual(withBitrate({ encodings: [{ active: true }] }, proposal), { encodings: [{ active: true, maxBitrate: 500000 }] });
  assert.deepEqual(withBitrate({ encodings: [] }, proposal), { encodings: [{ maxBitrate: 500000 }] });
  assert.equal(describeProposal(proposal), "camera at 640×360, 15 frames/s, 500 kbit/s");
});
