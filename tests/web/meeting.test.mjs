// control/web/lib/meeting.js without media: the façade joins over a fake WebSocket, keeps its room
// through the reducer and dispatches the documented events.

import { test } from "node:test";
import assert from "node:assert/strict";

import { Meeting } from "../../control/web/lib/meeting.js";

class FakeWebSocket {
  static last = null;

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    FakeWebSocket.last = this;
    setImmediate(() => { this.readyState = 1; this.onopen(); });
  }

  send(text) { this.sent.push(JSON.parse(text)); }
  close() { this.readyState = 3; }
  deliver(frame) { this.onmessage({ data: JSON.stringify(frame) }); }
  serverClose(code) { this.readyState = 3; this.onclose({ code, reason: "" }); }
}

const tick = () => new Promise(setImmediate);

function person(id, extra = {}) {
  return { id, name: id, label: id, role: "participant", registered: true, waiting: false,
    capabilities: ["microphone", "chat"], sources_on: [], floor: false, visiting: null, tracks: [], ...extra };
}

/** A joined Meeting, its socket, and the events it dispatched (type, and the detail's type if any). */
async function joinedMeeting() {
  const meeting = new Meeting({ token: "t", roomId: "r1", url: "ws://podium.test/signaling/v1", WebSocketImpl: FakeWebSocket });
  const events = [];
  for (const type of ["participants", "participant-joined", "participant-left", "chat", "source-changed", "disconnected",
    "error", "closed", "ok"]) meeting.addEventListener(type, (e) => events.push(type === "closed" ? [type, e.detail] : type));
  const joining = meeting.join();
  await tick();
  const ws = FakeWebSocket.last;
  assert.deepEqual(ws.sent, [{ type: "join", token: "t", room_id: "r1", ref: "1" }]);
  const you = person("p1", { role: "moderator" });
  ws.deliver({ type: "joined", meeting_id: "m1", room_id: "r1", participant_id: "p1", you, participants: [you],
    waiting: [], presenter_mode: false, chat_enabled: true, names_visible: false, features: {}, ref: "1" });
  const joined = await joining;
  assert.equal(joined.meeting_id, "m1");
  assert.equal(meeting.state, "joined");
  return { meeting, ws, events };
}

test("join resolves to `joined`, with the room in place and one participants event", async () => {
  const { meeting, events } = await joinedMeeting();
  assert.deepEqual(events, ["participants"]);
  assert.equal(meeting.meetingId, "m1");
  assert.equal(meeting.participantId, "p1");
  assert.equal(meeting.self.role, "moderator");
  assert.equal(meeting.moderates, true);
  assert.equal(meeting.can("chat"), true);
  assert.deepEqual([...meeting.participants.keys()], ["p1"]);
  meeting.close();
});

test("room events update the state, then dispatch their type and participants", async () => {
  const { meeting, ws, events } = await joinedMeeting();
  events.length = 0;
  ws.deliver({ type: "participant-joined", participant: person("p2") });
  ws.deliver({ type: "source-changed", participant_id: "p2", source: "microphone", on: true, by: null });
  ws.deliver({ type: "source-changed", participant_id: "p2", source: "microphone", on: true, by: null });
  ws.deliver({ type: "chat", id: 1, from: "p2", from_name: "p2", to: null, to_name: null, text: "hi", at: "2026-12-06T04:00:00+00:00" });
  assert.deepEqual(events, ["participant-joined", "participants", "source-changed", "participants", "source-changed", "chat"]);
  assert.deepEqual(meeting.participants.get("p2").sources_on, ["microphone"]);
  meeting.close();
});

test("a reply resolves its request and dispatches nothing", async () => {
  const { meeting, ws, events } = await joinedMeeting();
  events.length = 0;
  const sent = meeting.chat("hello", { to: "p2" });
  assert.deepEqual(ws.sent.at(-1), { type: "chat", text: "hello", to: "p2", ref: "2" });
  ws.deliver({ type: "ok", ref: "2" });
  assert.deepEqual(await sent, { type: "ok", ref: "2" });
  assert.deepEqual(events, []);
  meeting.close();
});

test("moderate sends only the arguments given", async () => {
  const { meeting, ws } = await joinedMeeting();
  const done = meeting.moderate("revoke_permission", { target: "p2", capability: "microphone", source: null });
  assert.deepEqual(ws.sent.at(-1), { type: "moderate", action: "revoke_permission", target: "p2", capability: "microphone", ref: "2" });
  ws.deliver({ type: "moderated", action: "revoke_permission", version: 4, ref: "2" });
  assert.equal((await done).version, 4);
  meeting.close();
});

test("closed carries the disconnected frame", async () => {
  const { meeting, ws, events } = await joinedMeeting();
  events.length = 0;
  const frame = { type: "disconnected", reason: "removed", until: "2026-12-06T16:00:00+00:00" };
  ws.deliver(frame);
  ws.serverClose(1000);
  assert.deepEqual(events, ["disconnected", ["closed", { code: 1000, reason: "", disconnect: frame }]]);
  assert.equal(meeting.state, "closed");
});

test("a refused join rejects with the server's code", async () => {
  const meeting = new Meeting({ token: "t", roomId: "r1", url: "ws://podium.test/signaling/v1", WebSocketImpl: FakeWebSocket });
  const joining = meeting.join();
  await tick();
  FakeWebSocket.last.deliver({ type: "error", code: "banned", message: "banned", ref: "1" });
  FakeWebSocket.last.serverClose(4003);
  await assert.rejects(joining, (error) => error.code === "banned");
  await assert.rejects(meeting.join(), (error) => error.code === "already_joined");
});

test("a join sent to a replica that does not run the meeting follows its redirect", async () => {
  const meeting = new Meeting({ token: "t", roomId: "r1", url: "ws://lb.test/signaling/v1", WebSocketImpl: FakeWebSocket });
  const joining = meeting.join();
  await tick();
  const first = FakeWebSocket.last;
  assert.equal(first.url, "ws://lb.test/signaling/v1");
  first.deliver({ type: "error", code: "meeting_elsewhere", message: "elsewhere", url: "ws://b.test/signaling/v1", ref: "1" });
  first.serverClose(4307);
  await tick();
  await tick();
  const second = FakeWebSocket.last;
  assert.notEqual(second, first);
  assert.equal(second.url, "ws://b.test/signaling/v1");
  assert.equal(second.sent[0].type, "join");
  second.deliver({ type: "joined", meeting_id: "m1", room_id: "r1", participant_id: "p1", you: person("p1"),
    participants: [person("p1")], waiting: [], presenter_mode: false, chat_enabled: true, names_visible: false,
    features: {}, ref: second.sent[0].ref });
  await joining;
  assert.equal(meeting.state, "joined");
  assert.equal(meeting.homeUrl, "ws://lb.test/signaling/v1");
  meeting.close();
});

test("redirects are followed a few times only", async () => {
  const meeting = new Meeting({ token: "t", roomId: "r1", url: "ws://lb.test/signaling/v1", WebSocketImpl: FakeWebSocket });
  const joining = meeting.join();
  for (let hop = 0; hop < 4; hop += 1) {
    await tick();
    await tick();
    const ws = FakeWebSocket.last;
    ws.deliver({ type: "error", code: "meeting_elsewhere", message: "elsewhere", url: `ws://r${hop}.test/signaling/v1`, ref: ws.sent[0].ref });
    ws.serverClose(4307);
  }
  await assert.rejects(joining, (error) => error.code === "meeting_elsewhere");
});

test("the server's active-speaker event is dispatched as it is, without a participants event", async () => {
  const { meeting, ws, events } = await joinedMeeting();
  const heard = [];
  meeting.addEventListener("active-speaker", (e) => heard.push(e.detail.participant));
  ws.deliver({ type: "active-speaker", participant: "p1" });
  ws.deliver({ type: "active-speaker", participant: null });
  assert.deepEqual(heard, ["p1", null]);
  assert.deepEqual(events, ["participants"]);
  meeting.close();
});

test("another tab took the participant over: close 4011 ends the session, not resumed", async () => {
  const { meeting, ws, events } = await joinedMeeting();
  ws.deliver({ type: "disconnected", reason: "joined_elsewhere" });
  ws.serverClose(4011);
  await tick();
  assert.equal(meeting.state, "closed");
  assert.equal(meeting.connection, "connected"); // never "reconnecting"
  const closed = events.find((e) => Array.isArray(e) && e[0] === "closed");
  assert.equal(closed[1].code, 4011);
  assert.equal(closed[1].disconnect.reason, "joined_elsewhere");
});

test("leave resolves when the server closes the connection, not on the fallback timer", async () => {
  const { meeting, ws, events } = await joinedMeeting();
  events.length = 0;
  let left = false;
  const leaving = meeting.leave().then(() => { left = true; });
  assert.equal(ws.sent.at(-1).type, "leave");
  ws.deliver({ type: "disconnected", reason: "left", until: null });
  ws.serverClose(1000);
  await tick();
  assert.equal(left, true); // it waited for the 3 s fallback: the ended reconnect machine swallowed the close
  assert.equal(meeting.state, "closed");
  assert.equal(events.filter((e) => Array.isArray(e) && e[0] === "closed").length, 1);
  await leaving;
});

test("chatHistory reads every page of the stored chat, as live chat events", async () => {
  const { meeting } = await joinedMeeting();
  const stored = (id, recipient = null) => ({ id, meeting_id: "m1", sent_at: `2026-12-07T13:00:0${id % 10}Z`, text: `m${id}`,
    sender: { person: "u2", participant: "p2", name: "Bob" }, recipient });
  const asked = [];
  const fetchImpl = async (url, { headers }) => {
    asked.push([url, headers.Authorization]);
    const after = Number(new URL(url, "http://podium.test").searchParams.get("after_id") || 0);
    // 205 messages: a full page of 200, then the last 5 (one of them private to p1)
    const items = [];
    for (let id = after + 1; id <= Math.min(after + 200, 205); id += 1) {
      items.push(stored(id, id === 203 ? { person: "u1", participant: "p1", name: "Ada" } : null));
    }
    return { ok: true, status: 200, json: async () => ({ items, total: 205, offset: 0, limit: 200 }) };
  };
  const messages = await meeting.chatHistory({ fetchImpl });
  assert.deepEqual(asked, [
    ["/api/v1/meetings/m1/chat?limit=200", "Bearer t"],
    ["/api/v1/meetings/m1/chat?limit=200&after_id=200", "Bearer t"],
  ]);
  assert.deepEqual(messages.map((m) => m.id), Array.from({ length: 205 }, (_, i) => i + 1));
  assert.deepEqual(messages[0], { id: 1, from: "p2", from_name: "Bob", to: null, to_name: null, text: "m1", at: "2026-12-07T13:00:01Z" });
  assert.deepEqual([messages[202].to, messages[202].to_name], ["p1", "Ada"]);
  await assert.rejects(meeting.chatHistory({ fetchImpl: async () => ({ ok: false, status: 403 }) }), { code: "chat_history" });
  meeting.close();
});
