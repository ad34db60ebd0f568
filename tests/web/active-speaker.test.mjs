// Who speaks: the server's active-speaker events once they come, the audio-level samples until then.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ActiveSpeaker, SPEAKING_HOLD_MS } from "../../control/web/lib/active-speaker.js";

test("without server events the ring follows loud samples and stays the hold time after the last one", () => {
  const speakers = new ActiveSpeaker();
  speakers.sample("p1", 0.5, 1000);
  speakers.sample("p2", 0.001, 1000); // quiet: not speech
  assert.equal(speakers.speaking("p1", 1000), true);
  assert.equal(speakers.speaking("p2", 1000), false);
  assert.equal(speakers.speaking("p1", 1000 + SPEAKING_HOLD_MS - 1), true);
  assert.equal(speakers.speaking("p1", 1000 + SPEAKING_HOLD_MS), false);
  speakers.sample("p2", 0.3, 1500);
  assert.equal(speakers.latest(["p1", "p2"]), "p2");
  assert.equal(speakers.latest(["p1"]), "p1");
  assert.equal(speakers.latest(["p3"]), null);
});

test("once the server names speakers, it alone drives the ring: samples are ignored", () => {
  const speakers = new ActiveSpeaker();
  speakers.sample("p1", 0.5, 1000);
  speakers.event({ type: "active-speaker", participant: "p2" }, 1100);
  assert.equal(speakers.fromServer, true);
  assert.equal(speakers.speaking("p1", 1100), false); // p1's loud sample no longer counts
  assert.equal(speakers.speaking("p2", 1100), true);
  assert.equal(speakers.speaking("p2", 1100 + 10 * SPEAKING_HOLD_MS), true); // until the server says otherwise
  speakers.sample("p1", 0.9, 1200);
  assert.equal(speakers.speaking("p1", 1200), false);
  assert.equal(speakers.latest(["p1", "p2"]), "p2");
  speakers.event({ type: "active-speaker", participant: "p1" }, 1300);
  assert.deepEqual([speakers.speaking("p1", 1300), speakers.speaking("p2", 1300)], [true, false]);
  assert.equal(speakers.latest(["p1", "p2"]), "p1");
});

test("a null participant means nobody speaks; speaker view keeps the latest one named", () => {
  const speakers = new ActiveSpeaker();
  speakers.event({ type: "active-speaker", participant: "p2" }, 100);
  speakers.event({ type: "active-speaker", participant: null }, 200);
  assert.equal(speakers.speaking("p2", 200), false);
  assert.equal(speakers.latest(["p1", "p2"]), "p2");
  speakers.event({ type: "active-speaker" }, 300); // a malformed event names nobody
  assert.equal(speakers.serverSpeaker, null);
  speakers.forget("p2");
  assert.equal(speakers.latest(["p1", "p2"]), null);
});
