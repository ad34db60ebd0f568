// control/web/lib/reconnect.js (the resume state machine, driven with explicit times) and the Meeting
// resuming over a fake WebSocket with fake timers: which closes end the session, the backoff, a peer
// connection that failed or stayed disconnected, the resume join and what its `media` says.

import { test } from "node:test";
import assert from "node:assert/strict";

import {
  BACKOFF_MS,
  DELIBERATE_CLOSES,
  DISCONNECTED_MS,
  GIVE_UP_MS,
  ReconnectMachine,
  ResumeTokens,
  backoff,
  nextUrl,
  resumable,
  retryable,
} from "../../control/web/lib/reconnect.js";
import { Meeting } from "../../control/web/lib/meeting.js";

test("deliberate closes end the session; anything else is resumed", () => {
  assert.deepEqual([...DELIBERATE_CLOSES].sort(), [1000, 4001, 4003, 4008, 4009, 4010, 4011, 4029]);
  for (const code of [1001, 1006, 1011, 1012, 1013, 4000]) assert.equal(resumable(code), true, code);
  for (const code of DELIBERATE_CLOSES) assert.equal(resumable(code), false, code);
  const machine = new ReconnectMachine();
  assert.deepEqual(machine.closed(4010, 0), { type: "end", reason: "closed" });
  assert.equal(machine.state, "ended");
  assert.equal(machine.closed(1006, 1), null);
});

test("the backoff doubles from 250 ms and stays at 4 s", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map((n) => backoff(n)), [250, 500, 1000, 2000, 4000, 4000, 4000]);
  const machine = new ReconnectMachine();
  assert.deepEqual(machine.closed(1006, 1000), { type: "retry", delay: 250 });
  assert.equal(machine.state, "reconnecting");
  assert.equal(machine.closed(1006, 1100), null); // a try's socket closing is the try's business
  const delays = [];
  for (let n = 1; n <= 6; n += 1) delays.push(machine.failed("closed", 1000 + n * 1000).delay);
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 4000, 4000]);
  machine.resumed();
  assert.equal(machine.state, "connected");
  assert.deepEqual(machine.closed(1012, 50_000), { type: "retry", delay: BACKOFF_MS[0] });
});

test("a try refused by policy ends; the engine or the network is tried again; tries stop after a while", () => {
  const machine = new ReconnectMachine();
  machine.closed(1001, 0);
  assert.equal(machine.failed("engine_unavailable", 10).type, "retry");
  assert.equal(machine.failed("timeout", 20).type, "retry");
  assert.deepEqual(machine.failed("banned", 30), { type: "end", reason: "banned" });
  const patient = new ReconnectMachine();
  patient.closed(1006, 0);
  assert.deepEqual(patient.failed("closed", GIVE_UP_MS), { type: "end", reason: "gave_up" });
});

test("a failed peer connection is lost at once; a disconnected one after a few seconds", () => {
  const machine = new ReconnectMachine();
  assert.equal(machine.peer("publish", "connected", 0), null);
  assert.deepEqual(machine.peer("subscribe", "disconnected", 1000), { type: "check", delay: DISCONNECTED_MS });
  assert.equal(machine.tick(1000 + DISCONNECTED_MS - 1), null);
  assert.equal(machine.peer("subscribe", "connected", 2000), null); // ICE recovered by itself
  assert.equal(machine.tick(1000 + DISCONNECTED_MS), null);
  machine.peer("subscribe", "disconnected", 5000);
  assert.deepEqual(machine.tick(5000 + DISCONNECTED_MS), { type: "retry", delay: 250 });
  machine.resumed();
  assert.deepEqual(machine.peer("publish", "failed", 9000), { type: "retry", delay: 250 });
  assert.equal(machine.peer("subscribe", "failed", 9001), null); // already reconnecting
});

test("resume tokens are kept per room", () => {
  const tokens = new ResumeTokens(null);
  tokens.save("r1", "t1");
  tokens.save("r2", "t2");
  assert.equal(tokens.load("r1"), "t1");
  tokens.forget("r1");
  assert.equal(tokens.load("r1"), null);
  assert.equal(tokens.load("r2"), "t2");
});

// -- the Meeting resuming ----------------------------------------------------------------------------

class FakeWebSocket {
  static all = [];

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    FakeWebSocket.all.push(this);
    setImmediate(() => { this.readyState = 1; this.onopen(); });
  }

  send(text) { this.sent.push(JSON.parse(text)); }
  close(code) { this.readyState = 3; this.closedWith = code; }
  deliver(frame) { this.onmessage({ data: JSON.stringify(frame) }); }
  serverClose(code) { this.readyState = 3; this.onclose({ code, reason: "" }); }
}

/** Timers run when the test says: `run()` fires every due one. */
class FakeTimers {
  constructor() { this.pending = new Map(); this.next = 1; }
  setTimeout(fn, delay) { const id = this.next++; this.pending.set(id, { fn, delay }); return id; }
  clearTimeout(id) { this.pending.delete(id); }
  delays() { return [...this.pending.values()].map((t) => t.delay); }
  run() { const due = [...this.pending.values()]; this.pending.clear(); for (const t of due) t.fn(); }
}

const tick = () => new Promise(setImmediate);

function you(extra = {}) {
  return { id: "p1", name: "Ann", label: "Ann", role: "participant", registered: true, waiting: false,
    capabilities: ["chat"], sources_on: [], floor: false, visiting: null, tracks: [], ...extra };
}

function joined(ref, extra = {}) {
  return { type: "joined", meeting_id: "m1", room_id: "r1", participant_id: "p1", you: you(), participants: [you()],
    waiting: [], presenter_mode: false, chat_enabled: true, names_visible: true, features: {}, resume_token: "rt-1",
    resumed: false, ref, ...extra };
}

async function joinedMeeting(tokens = new ResumeTokens(null)) {
  FakeWebSocket.all = [];
  const timers = new FakeTimers();
  const meeting = new Meeting({ token: "t", roomId: "r1", url: "ws://podium.test/signaling/v1",
    WebSocketImpl: FakeWebSocket, resumeTokens: tokens, timers });
  const events = [];
  for (const type of ["reconnecting", "reconnected", "closed", "error"]) meeting.addEventListener(type, (e) => events.push([type, e.detail]));
  const joining = meeting.join();
  await tick();
  const ws = FakeWebSocket.all.at(-1);
  ws.deliver(joined(ws.sent[0].ref));
  await joining;
  return { meeting, ws, events, timers, tokens };
}

test("a reload joins with the room's resume token, without keeping media", async () => {
  const tokens = new ResumeTokens(null);
  tokens.save("r1", "rt-0");
  FakeWebSocket.all = [];
  const meeting = new Meeting({ token: "t", roomId: "r1", url: "ws://x", WebSocketImpl: FakeWebSocket, resumeTokens: tokens,
    timers: new FakeTimers() });
  const joining = meeting.join();
  await tick();
  const ws = FakeWebSocket.all[0];
  assert.deepEqual(ws.sent[0], { type: "join", token: "t", room_id: "r1", resume: "rt-0", keep_media: false, ref: "1" });
  ws.deliver(joined("1", { resumed: true, media: "renew", resume_token: "rt-2" }));
  await joining;
  assert.equal(tokens.load("r1"), "rt-2");
  meeting.close();
});

test("a dropped socket shows reconnecting, resumes after the backoff with keep_media, and goes on", async () => {
  const { meeting, ws, events, timers, tokens } = await joinedMeeting();
  assert.equal(tokens.load("r1"), "rt-1");
  ws.serverClose(1006);
  assert.equal(meeting.connection, "reconnecting");
  assert.deepEqual(events, [["reconnecting", { reason: "connection lost" }]]);
  assert.deepEqual(timers.delays(), [250]);
  await assert.rejects(meeting.chat("lost"), (error) => error.code === "closed");

  // the first try: the server is not back yet
  timers.run();
  await tick();
  FakeWebSocket.all.at(-1).serverClose(1006);
  await tick();
  assert.deepEqual(timers.delays(), [500]);

  // the second try resumes: same participant, media kept
  timers.run();
  await tick();
  const second = FakeWebSocket.all.at(-1);
  const join = second.sent[0];
  assert.deepEqual(join, { type: "join", token: "t", room_id: "r1", keep_media: true, resume: "rt-1", ref: "1" });
  second.deliver(joined(join.ref, { resumed: true, media: "kept", resume_token: "rt-3" }));
  await tick();
  assert.equal(meeting.connection, "connected");
  assert.equal(meeting.state, "joined");
  assert.equal(events.at(-1)[0], "reconnected");
  assert.equal(events.at(-1)[1].media, "kept");
  assert.equal(tokens.load("r1"), "rt-3");
  assert.equal(meeting.participantId, "p1");
  const sent = meeting.chat("back");
  assert.equal(second.sent.at(-1).text, "back");
  second.deliver({ type: "ok", ref: second.sent.at(-1).ref });
  await sent;
  meeting.close();
});

test("a deliberate close ends the session and forgets the token; leave too", async () => {
  const { meeting, ws, events, tokens } = await joinedMeeting();
  ws.deliver({ type: "disconnected", reason: "replaced", until: null });
  ws.serverClose(4010);
  assert.deepEqual(events.map(([type]) => type), ["closed"]);
  assert.equal(meeting.state, "closed");
  assert.equal(tokens.load("r1"), null);

  const second = await joinedMeeting();
  const leaving = second.meeting.leave();
  assert.equal(second.ws.sent.at(-1).type, "leave");
  second.ws.serverClose(1000);
  await leaving;
  assert.equal(second.tokens.load("r1"), null);
  assert.deepEqual(second.events.map(([type]) => type), ["closed"]);
});

test("a resume refused by policy ends the session with the refusal", async () => {
  const { meeting, ws, events, timers } = await joinedMeeting();
  ws.serverClose(1012);
  timers.run();
  await tick();
  const retry = FakeWebSocket.all.at(-1);
  retry.deliver({ type: "error", code: "banned", message: "you are banned", ref: retry.sent[0].ref });
  retry.serverClose(4003);
  await tick();
  assert.equal(meeting.state, "closed");
  assert.deepEqual(events.map(([type, detail]) => (type === "error" ? detail.code : type)), ["reconnecting", "banned", "closed"]);
});

test("a failed peer connection closes the socket and resumes without keeping media", async () => {
  const { meeting, ws, events, timers } = await joinedMeeting();
  meeting._peerState("subscribe", "failed");
  assert.equal(ws.closedWith, 4000); // closed by us, not as a leave
  assert.deepEqual(events.map(([type]) => type), ["reconnecting"]);
  let renewed = 0;
  meeting.media.reconnect = async () => { renewed += 1; };
  meeting.media.intact = () => false;
  timers.run();
  await tick();
  const retry = FakeWebSocket.all.at(-1);
  assert.equal(retry.sent[0].keep_media, false);
  retry.deliver(joined(retry.sent[0].ref, { resumed: true, media: "renew" }));
  await tick();
  assert.equal(renewed, 1);
  assert.equal(meeting.connection, "connected");
  meeting.close();
});

test("where the next try goes: the redirect's replica, or home after a try that could not connect", () => {
  const home = "wss://lb/signaling/v1";
  const owner = "wss://b/signaling/v1";
  assert.equal(nextUrl(home, home, "meeting_elsewhere", owner), owner);
  assert.equal(nextUrl(home, owner, "closed", undefined), home);
  assert.equal(nextUrl(home, owner, "engine_unavailable", undefined), owner);
  assert.equal(nextUrl(home, owner, "meeting_elsewhere", undefined), owner);
  assert.equal(retryable("meeting_elsewhere"), true);
});

test("a resume after the owner died goes home, is redirected to the new owner, and resumes there", async () => {
  FakeWebSocket.all = [];
  const timers = new FakeTimers();
  const meeting = new Meeting({ token: "t", roomId: "r1", url: "ws://lb/signaling/v1", WebSocketImpl: FakeWebSocket,
    resumeTokens: new ResumeTokens(null), timers });
  const joining = meeting.join();
  await tick();
  const lb = FakeWebSocket.all.at(-1);
  lb.deliver({ type: "error", code: "meeting_elsewhere", message: "m", url: "ws://a/signaling/v1", ref: lb.sent[0].ref });
  lb.serverClose(4307);
  await tick();
  await tick();
  const a = FakeWebSocket.all.at(-1);
  assert.equal(a.url, "ws://a/signaling/v1");
  a.deliver(joined(a.sent[0].ref));
  await joining;

  a.serverClose(1006); // replica a died
  timers.run();
  await tick();
  const retryA = FakeWebSocket.all.at(-1);
  assert.equal(retryA.url, "ws://a/signaling/v1");
  retryA.serverClose(1006); // nobody there
  await tick();
  timers.run();
  await tick();
  const home = FakeWebSocket.all.at(-1);
  assert.equal(home.url, "ws://lb/signaling/v1");
  home.deliver({ type: "error", code: "meeting_elsewhere", message: "m", url: "ws://b/signaling/v1", ref: home.sent[0].ref });
  await tick();
  assert.deepEqual(timers.delays(), [0]);
  timers.run();
  await tick();
  const b = FakeWebSocket.all.at(-1);
  assert.equal(b.url, "ws://b/signaling/v1");
  assert.equal(b.sent[0].resume, "rt-1");
  b.deliver(joined(b.sent[0].ref, { resumed: true, media: "renew" }));
  await tick();
  assert.equal(meeting.connection, "connected");
  meeting.close();
});
