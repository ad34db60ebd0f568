// control/web/lib/media.js applying the server's `layers` frame: encodings[i].active follows the
// active indices, through getParameters/setParameters, one call at a time, nothing for one encoding.

import { test } from "node:test";
import assert from "node:assert/strict";

import { Media, activateLayers } from "../../control/web/lib/media.js";

const encodings = (n) => Array.from({ length: n }, (_, i) => ({ rid: "qhf"[3 - n + i], active: true }));

test("activateLayers sets each encoding's active flag and says whether it changed", () => {
  const parameters = { encodings: encodings(3) };
  assert.equal(activateLayers(parameters, [0]), true);
  assert.deepEqual(parameters.encodings.map((e) => e.active), [true, false, false]);
  assert.equal(activateLayers(parameters, [0]), false);
  assert.equal(activateLayers(parameters, [0, 2]), true);
  assert.deepEqual(parameters.encodings.map((e) => e.active), [true, false, true]);
  assert.equal(activateLayers(parameters, []), true);
  assert.deepEqual(parameters.encodings.map((e) => e.active), [false, false, false]);
  // one encoding (no simulcast): left alone
  const single = { encodings: encodings(1) };
  assert.equal(activateLayers(single, []), false);
  assert.equal(single.encodings[0].active, true);
  assert.equal(activateLayers({}, [0]), false);
});

/** A sender whose setParameters needs the parameters of the latest getParameters, one call at a time. */
class FakeSender {
  constructor(n) {
    this.encodings = encodings(n);
    this.transaction = 0;
    this.busy = false;
    this.calls = [];
  }

  getParameters() {
    this.transaction += 1;
    return { transactionId: String(this.transaction), encodings: this.encodings.map((e) => ({ ...e })) };
  }

  async setParameters(parameters) {
    assert.equal(this.busy, false, "setParameters while another is in flight");
    assert.equal(parameters.transactionId, String(this.transaction), "stale parameters");
    this.busy = true;
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.encodings = parameters.encodings;
    this.calls.push(parameters.encodings.map((e) => e.active));
    this.busy = false;
  }
}

function publisher(n) {
  const media = new Media({ request: async () => ({ type: "ok" }), emit: () => {} });
  const sender = new FakeSender(n);
  media.local.set("camera", { source: "camera", transceiver: { sender }, on: true });
  return { media, sender };
}

test("a layers frame turns encodings off and on, serially, skipping what is already so", async () => {
  const { media, sender } = publisher(3);
  const results = await Promise.all([media.setLayers("camera", [2]), media.setLayers("camera", [0, 2]),
    media.setLayers("camera", [0, 2])]);
  assert.deepEqual(results, [true, true, false]);
  assert.deepEqual(sender.calls, [[false, false, true], [true, false, true]]);
  assert.equal(await media.setLayers("camera", [0, 1, 2]), true);
  assert.deepEqual(sender.encodings.map((e) => e.active), [true, true, true]);
});

test("a layers frame for a source not published, or without simulcast, does nothing", async () => {
  const { media, sender } = publisher(1);
  assert.equal(await media.setLayers("screen", [0]), false);
  assert.equal(await media.setLayers("camera", []), false);
  assert.deepEqual(sender.calls, []);
});

test("a failed setParameters does not stop the next frame", async () => {
  const { media, sender } = publisher(2);
  const real = sender.setParameters.bind(sender);
  sender.setParameters = async () => { throw new Error("InvalidStateError"); };
  await assert.rejects(media.setLayers("camera", [1]));
  sender.setParameters = real;
  assert.equal(await media.setLayers("camera", [1]), true);
  assert.deepEqual(sender.encodings.map((e) => e.active), [false, true]);
});
