// control/web/lib/media.js answering subscribe offers, with a fake RTCPeerConnection: an m-section
// whose consumer ended goes inactive and may carry a later consumer of its kind (same mid).

import { test } from "node:test";
import assert from "node:assert/strict";

import { Media } from "../../control/web/lib/media.js";

/** Fires `ontrack` on setRemoteDescription for every mid the offer sends (a=sendonly) that was not
 * receiving before, as a browser does when a transceiver starts receiving. */
class FakePeerConnection {
  constructor() {
    this.receiving = new Set();
    this.localDescription = null;
  }

  async setRemoteDescription({ sdp }) {
    const sections = sdp.split("m=").slice(1);
    for (const section of sections) {
      const mid = /a=mid:(\S+)/.exec(section)[1];
      const sending = section.includes("a=sendonly");
      if (sending && !this.receiving.has(mid)) {
        this.receiving.add(mid);
        const track = { id: `track-${mid}` };
        this.ontrack({ transceiver: { mid }, track, receiver: { getStats: async () => new Map() } });
      } else if (!sending) {
        this.receiving.delete(mid);
      }
    }
  }

  async createAnswer() { return { type: "answer", sdp: "v=0 answer" }; }
  async setLocalDescription(answer) { this.localDescription = answer; }
  close() {}
}

globalThis.MediaStream ??= class { constructor(tracks) { this.tracks = tracks; } };

function consumer(mid, participant, source, active = true) {
  return { mid, consumer_id: `c-${participant}-${source}`, participant_id: participant, source,
    kind: source === "camera" ? "video" : "audio", stream_id: participant, track_id: `c-${participant}-${source}`, active };
}

function offer(version, consumers) {
  const sdp = consumers.map((c) => `m=${c.kind} 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:${c.mid}\r\na=${c.active ? "sendonly" : "inactive"}\r\n`).join("");
  return { type: "subscribe-offer", version, sdp: `v=0\r\n${sdp}`, consumers };
}

function newMedia() {
  const events = [];
  const answers = [];
  const media = new Media({
    request: async (frame) => { answers.push(frame.version); return { type: "ok" }; },
    emit: (type, detail) => events.push([type, detail.participantId, detail.source, detail.mid]),
  });
  media._newPeerConnection = () => new FakePeerConnection();
  return { media, events, answers };
}

const settle = (media) => media._subscribing;

test("a section that went inactive ends its track, and a later consumer in it is a new track", async () => {
  const { media, events, answers } = newMedia();
  media.offer(offer(1, [consumer("0", "bob", "microphone"), consumer("1", "bob", "camera")]));
  await settle(media);
  assert.deepEqual(events, [["track", "bob", "microphone", "0"], ["track", "bob", "camera", "1"]]);

  // Bob reloads: his sections go inactive (never rejected), and his tracks end
  media.offer(offer(2, [consumer("0", "bob", "microphone", false), consumer("1", "bob", "camera", false)]));
  await settle(media);
  assert.deepEqual(events.slice(2), [["track-ended", "bob", "microphone", "0"], ["track-ended", "bob", "camera", "1"]]);
  assert.equal(media.remote.size, 0);

  // back as bob2: the same mids carry his new consumers
  media.offer(offer(3, [consumer("0", "bob2", "microphone"), consumer("1", "bob2", "camera")]));
  await settle(media);
  assert.deepEqual(events.slice(4), [["track", "bob2", "microphone", "0"], ["track", "bob2", "camera", "1"]]);
  assert.deepEqual(media.remoteTracks("bob2").map((t) => t.mid), ["0", "1"]);
  assert.deepEqual(media.remoteTracks("bob"), []);
  assert.deepEqual(answers, [1, 2, 3]);
});

test("a section whose consumer changed ends the old track before the new one arrives", async () => {
  const { media, events } = newMedia();
  media.offer(offer(1, [consumer("0", "bob", "microphone")]));
  await settle(media);
  // the server never skips the inactive offer, but a client that missed it must not mix the two up
  const fake = media.sub;
  fake.receiving.delete("0");
  media.offer(offer(2, [consumer("0", "cleo", "microphone")]));
  await settle(media);
  assert.deepEqual(events, [
    ["track", "bob", "microphone", "0"],
    ["track-ended", "bob", "microphone", "0"],
    ["track", "cleo", "microphone", "0"],
  ]);
  assert.equal(media.remote.get("0").consumer.participant_id, "cleo");
});

test("media is intact for a resume only with every peer connection connected and no publish under way", async () => {
  const { media } = newMedia();
  assert.equal(media.intact(), true); // nothing to lose
  media.sub = { connectionState: "connected" };
  media.pub = { connectionState: "disconnected" };
  assert.equal(media.intact(), false);
  media.pub.connectionState = "connected";
  assert.equal(media.intact(), true);
  let finish;
  const step = media._serially(() => new Promise((resolve) => { finish = resolve; }));
  await Promise.resolve();
  assert.equal(media.intact(), false); // a publish whose answer may never come
  finish();
  await step;
  assert.equal(media.intact(), true);
});

test("a publish offer waits until the answer to a subscribe offer received meanwhile is sent", async () => {
  const sent = [];
  let acknowledge;
  const media = new Media({
    // the server acknowledges a subscribe answer only later; a publish is answered at once
    request: (frame) => {
      sent.push(frame.type);
      if (frame.type === "subscribe-answer") return new Promise((resolve) => { acknowledge = resolve; });
      return Promise.resolve({ type: "publish-answer", sdp: "v=0 answer", producers: [] });
    },
    emit: () => {},
  });
  media._newPeerConnection = () => new FakePeerConnection();
  media.pub = Object.assign(new FakePeerConnection(), { createOffer: async () => ({ type: "offer", sdp: "v=0 offer" }) });
  const publishing = media._negotiatePublish([]); // making its offer when the subscribe offer comes
  media.offer(offer(1, [consumer("0", "bob", "camera")]));
  await publishing;
  // the answer went out first, and the publish did not wait for its acknowledgement
  assert.deepEqual(sent, ["subscribe-answer", "publish"]);
  acknowledge({ type: "ok" });
  await settle(media);
});
