// The TURN servers of the `joined` frame (docs/signaling.md, `ice_servers`) reach the peer connections
// that control/web/lib/media.js makes, after the application's own.

import { test } from "node:test";
import assert from "node:assert/strict";

import { Meeting } from "../../control/web/lib/meeting.js";
import { Media } from "../../control/web/lib/media.js";

const turn = { urls: ["turn:turn.podium.test:3478"], username: "1767225600:p1", credential: "c2VjcmV0" };

test("the server's ICE servers come after the application's, and replace the previous join's", () => {
  const stun = { urls: "stun:stun.podium.test" };
  const media = new Media({ rtcConfiguration: { iceServers: [stun] }, request: async () => ({}), emit: () => {} });
  media.useIceServers([turn]);
  assert.deepEqual(media.rtcConfiguration.iceServers, [stun, turn]);
  const renewed = { ...turn, username: "1767229200:p1" };
  media.useIceServers([renewed]);
  assert.deepEqual(media.rtcConfiguration.iceServers, [stun, renewed]);
  assert.equal(media.rtcConfiguration.bundlePolicy, "max-bundle");
});

test("a joined frame without ice_servers leaves the configuration as given", () => {
  const media = new Media({ request: async () => ({}), emit: () => {} });
  media.useIceServers(undefined);
  assert.deepEqual(media.rtcConfiguration.iceServers, []);
});

class FakeWebSocket {
  constructor() {
    this.readyState = 0;
    this.sent = [];
    FakeWebSocket.last = this;
    setImmediate(() => { this.readyState = 1; this.onopen(); });
  }
  send(text) { this.sent.push(JSON.parse(text)); }
  close() { this.readyState = 3; }
  deliver(frame) { this.onmessage({ data: JSON.stringify(frame) }); }
}

test("Meeting.join hands the joined frame's ice_servers to its media", async () => {
  const meeting = new Meeting({ token: "t", roomId: "r1", url: "ws://podium.test/signaling/v1", WebSocketImpl: FakeWebSocket });
  const joining = meeting.join();
  await new Promise(setImmediate);
  const you = { id: "p1", name: "p1", label: "p1", role: "participant", registered: true, waiting: false,
    capabilities: [], sources_on: [], floor: false, visiting: null, tracks: [] };
  FakeWebSocket.last.deliver({ type: "joined", meeting_id: "m1", room_id: "r1", participant_id: "p1", you,
    participants: [you], waiting: [], presenter_mode: false, chat_enabled: true, names_visible: false, features: {},
    ice_servers: [turn], ref: "1" });
  await joining;
  assert.deepEqual(meeting.rtcConfiguration.iceServers, [turn]);
  meeting.close();
});
