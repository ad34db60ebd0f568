// The recording module's pure helpers: the indicator's state from the server's frames, the button's label.
import { test } from "node:test";
import assert from "node:assert/strict";
import { recordButton, recordingAfter } from "../../control/web/app/recording.js";

test("recordingAfter: joined, admitted and recording-changed say; other frames keep the state", () => {
  assert.equal(recordingAfter(false, { type: "joined", recording: true }), true);
  assert.equal(recordingAfter(true, { type: "admitted", recording: false }), false);
  assert.equal(recordingAfter(false, { type: "recording-changed", recording: true, by: "p1" }), true);
  assert.equal(recordingAfter(true, { type: "recording-changed", recording: false, by: "p1" }), false);
  assert.equal(recordingAfter(true, { type: "room-changed", presenter_mode: false }), true);
  assert.equal(recordingAfter(true, { type: "joined" }), true); // an older server: the frame does not say
  assert.equal(recordingAfter(false, null), false);
});

test("recordButton: Record, or Stop recording while recording (pressed)", () => {
  assert.deepEqual(recordButton(false), { label: "Record", pressed: "false" });
  assert.deepEqual(recordButton(true), { label: "Stop recording", pressed: "true" });
});
