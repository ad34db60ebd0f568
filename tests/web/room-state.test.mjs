// control/web/lib/room-state.js: every frame type the reducer handles, that it never changes its input,
// and generated sequences of room events (a seeded generator, so a failure replays) against invariants
// and a plain reference model.

import { test } from "node:test";
import assert from "node:assert/strict";

import {
  can, initialState, isShown, labelOf, mayChat, moderates, needsFloor, organizerPresent, personOf, reduce, selfOf,
} from "../../control/web/lib/room-state.js";

function person(id, extra = {}) {
  return { id, name: `Name ${id}`, label: `Participant ${id}`, role: "participant", registered: true, waiting: false,
    capabilities: ["microphone", "camera", "chat"], sources_on: [], floor: false, visiting: null, tracks: [], ...extra };
}

function joined({ you = person("p1", { role: "organizer" }), participants = [you], waiting = [], ...extra } = {}) {
  return { type: "joined", meeting_id: "m1", room_id: "r1", participant_id: you.id, you, participants, waiting,
    presenter_mode: false, chat_enabled: true, names_visible: true,
    features: { waiting_room: true, screen_share: true, chat: true }, ref: "1", ...extra };
}

/** The state after `joined` then `frames`, each step checked not to change its input. */
function run(...frames) {
  let state = reduce(initialState(), joined());
  for (const frame of frames) state = checkedReduce(state, frame);
  return state;
}

/** reduce(), asserting that neither the state nor the frame given was changed. */
function checkedReduce(state, frame) {
  const stateBefore = structuredClone(state);
  const frameBefore = structuredClone(frame);
  const next = reduce(state, frame);
  assert.deepEqual(state, stateBefore, `${frame.type} changed its input state`);
  assert.deepEqual(frame, frameBefore, `${frame.type} changed its frame`);
  return next;
}

/** A state frozen through and through: any write to it (Maps aside) throws. */
function deepFreeze(value) {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    const children = value instanceof Map ? [...value.values()] : Object.values(value);
    for (const child of children) deepFreeze(child);
  }
  return value;
}

// -- each frame type ---------------------------------------------------------------------------------

test("participant-hidden marks a listed person hidden or listed again", () => {
  let state = run({ type: "participant-joined", participant: person("p2") },
    { type: "participant-hidden", participant_id: "p2", hidden: true });
  assert.equal(state.participants.get("p2").hidden, true);
  state = checkedReduce(state, { type: "participant-hidden", participant_id: "p2", hidden: false });
  assert.equal(state.participants.get("p2").hidden, false);
});

test("joined says why one waits; admitted clears it", () => {
  const me = person("p1", { waiting: true });
  let state = reduce(initialState(), joined({ you: me, participants: [], waiting_for: "moderator" }));
  assert.equal(state.waitingFor, "moderator");
  state = checkedReduce(state, { type: "admitted", participants: [{ ...me, waiting: false }], presenter_mode: false,
    chat_enabled: true });
  assert.equal(state.waitingFor, null);
  assert.equal(reduce(initialState(), joined()).waitingFor, null);
});


test("initial state: nobody, chat on, names hidden", () => {
  const state = initialState();
  assert.equal(selfOf(state), null);
  assert.equal(state.participants.size, 0);
  assert.deepEqual(state.waiting, []);
  assert.equal(state.chatEnabled, true);
  assert.equal(state.namesVisible, false);
  assert.equal(can(state, "chat"), false);
  assert.equal(moderates(state), false);
});

test("joined sets the meeting, oneself, the room and the waiting list", () => {
  const bob = person("p2");
  const gus = person("p9", { waiting: true, registered: false });
  const state = reduce(initialState(), joined({ participants: [person("p1", { role: "organizer" }), bob], waiting: [gus],
    presenter_mode: true, chat_enabled: false }));
  assert.equal(state.meetingId, "m1");
  assert.equal(state.participantId, "p1");
  assert.deepEqual([...state.participants.keys()], ["p1", "p2"]);
  assert.deepEqual(state.waiting, [gus]);
  assert.equal(state.presenterMode, true);
  assert.equal(state.chatEnabled, false);
  assert.equal(state.namesVisible, true);
  assert.equal(state.features.waiting_room, true);
  assert.equal(selfOf(state).role, "organizer");
  assert.equal(moderates(state), true);
});

test("joined adds oneself when the list leaves one out, unless waiting", () => {
  const you = person("p1");
  assert.deepEqual([...reduce(initialState(), joined({ you, participants: [] })).participants.keys()], ["p1"]);
  const waiting = person("p1", { waiting: true });
  const state = reduce(initialState(), joined({ you: waiting, participants: [person("p2")] }));
  assert.deepEqual([...state.participants.keys()], ["p2"]);
  assert.equal(selfOf(state).waiting, true);
});

test("joined without optional fields takes the defaults", () => {
  const you = person("p1");
  const state = reduce(initialState(), { type: "joined", meeting_id: "m1", participant_id: "p1", you });
  assert.deepEqual(state.waiting, []);
  assert.deepEqual(state.features, {});
  assert.equal(state.chatEnabled, true);
  assert.equal(state.presenterMode, false);
  assert.equal(state.namesVisible, false);
});

test("participant-joined appends, participant-left removes", () => {
  const bob = person("p2");
  let state = run({ type: "participant-joined", participant: bob });
  assert.deepEqual([...state.participants.keys()], ["p1", "p2"]);
  assert.equal(state.participants.get("p2"), bob);
  state = checkedReduce(state, { type: "participant-left", participant_id: "p2", reason: "left" });
  assert.deepEqual([...state.participants.keys()], ["p1"]);
});

test("participant-left of someone unknown changes nothing", () => {
  const state = run();
  assert.equal(reduce(state, { type: "participant-left", participant_id: "nobody", reason: "left" }), state);
});

test("waiting-room replaces the waiting list", () => {
  const waiting = [person("p7", { waiting: true })];
  assert.deepEqual(run({ type: "waiting-room", waiting }).waiting, waiting);
});

test("admitted: oneself no longer waiting, the room as sent, oneself among the admitted", () => {
  const you = person("p1", { waiting: true });
  let state = reduce(initialState(), joined({ you, participants: [] }));
  assert.equal(state.participants.size, 0);
  state = checkedReduce(state, { type: "admitted", participants: [person("p2")], presenter_mode: true, chat_enabled: false });
  assert.equal(selfOf(state).waiting, false);
  assert.deepEqual([...state.participants.keys()], ["p2", "p1"]);
  assert.equal(state.presenterMode, true);
  assert.equal(state.chatEnabled, false);
  assert.equal(isShown(state, "p2"), true);
});

test("sent-back: oneself waiting without the floor, nobody else visible", () => {
  const state = run({ type: "participant-joined", participant: person("p2") },
    { type: "floor-changed", participant_id: "p1", floor: true }, { type: "sent-back" });
  assert.equal(state.participants.size, 0);
  assert.equal(selfOf(state).waiting, true);
  assert.equal(selfOf(state).floor, false);
  assert.equal(selfOf(state).id, "p1");
  assert.equal(isShown(state, "p2"), false);
});

test("track-published and track-unpublished keep a set of sources", () => {
  const pub = { type: "track-published", participant_id: "p1", source: "camera", kind: "video" };
  let state = run(pub, pub, { ...pub, source: "microphone", kind: "audio" });
  assert.deepEqual(selfOf(state).tracks, ["camera", "microphone"]);
  state = checkedReduce(state, { type: "track-unpublished", participant_id: "p1", source: "camera", kind: "video" });
  assert.deepEqual(selfOf(state).tracks, ["microphone"]);
});

test("track-published for someone without a track list starts one", () => {
  const bare = person("p2");
  delete bare.tracks;
  const state = run({ type: "participant-joined", participant: bare },
    { type: "track-published", participant_id: "p2", source: "screen", kind: "video" });
  assert.deepEqual(state.participants.get("p2").tracks, ["screen"]);
});

test("source-changed turns a source on and off", () => {
  let state = run({ type: "source-changed", participant_id: "p1", source: "microphone", on: true, by: null });
  assert.deepEqual(selfOf(state).sources_on, ["microphone"]);
  state = checkedReduce(state, { type: "source-changed", participant_id: "p1", source: "microphone", on: false, by: "p2" });
  assert.deepEqual(selfOf(state).sources_on, []);
});

test("permission-changed grants and revokes a capability", () => {
  let state = run({ type: "permission-changed", participant_id: "p1", capability: "chat", held: false, by: "p2" });
  assert.equal(can(state, "chat"), false);
  assert.equal(mayChat(state), false);
  state = checkedReduce(state, { type: "permission-changed", participant_id: "p1", capability: "screen_share", held: true, by: "p2" });
  assert.equal(can(state, "screen_share"), true);
});

test("role-changed and floor-changed", () => {
  let state = run({ type: "participant-joined", participant: person("p2") },
    { type: "role-changed", participant_id: "p2", role: "moderator" },
    { type: "floor-changed", participant_id: "p2", floor: true });
  assert.equal(state.participants.get("p2").role, "moderator");
  assert.equal(state.participants.get("p2").floor, true);
  state = checkedReduce(state, { type: "role-changed", participant_id: "p1", role: "participant" });
  assert.equal(moderates(state), false);
});

test("room-changed sets presenter mode and chat", () => {
  const state = run({ type: "room-changed", presenter_mode: true, chat_enabled: false });
  assert.equal(state.presenterMode, true);
  assert.equal(state.chatEnabled, false);
  assert.equal(reduce(state, { type: "room-changed", presenter_mode: true, chat_enabled: false }), state);
});

test("visit-started and visit-ended set the moderator's visit", () => {
  const gus = person("p9", { waiting: true });
  let state = run({ type: "waiting-room", waiting: [gus] },
    { type: "visit-started", moderator_id: "p1", participant_id: "p9" });
  assert.equal(selfOf(state).visiting, "p9");
  assert.equal(isShown(state, "p9"), true);
  assert.equal(personOf(state, "p9"), gus);
  state = checkedReduce(state, { type: "visit-ended", moderator_id: "p1", participant_id: "p9" });
  assert.equal(selfOf(state).visiting, null);
  assert.equal(isShown(state, "p9"), false);
});

test("the visited person shows its visitor while waiting, until the visit ends or it is admitted", () => {
  const you = person("p1", { waiting: true });
  let state = reduce(initialState(), joined({ you, participants: [] }));
  assert.equal(isShown(state, "p7"), false);
  state = checkedReduce(state, { type: "visit-started", moderator_id: "p7", participant_id: "p1" });
  assert.equal(state.visitedBy, "p7");
  assert.equal(isShown(state, "p7"), true);
  assert.equal(isShown(state, "p8"), false);
  assert.equal(reduce(state, { type: "visit-started", moderator_id: "p7", participant_id: "p1" }), state);
  state = checkedReduce(state, { type: "visit-ended", moderator_id: "p7", participant_id: "p1" });
  assert.equal(state.visitedBy, null);
  assert.equal(isShown(state, "p7"), false);
  state = checkedReduce(state, { type: "visit-started", moderator_id: "p7", participant_id: "p1" });
  state = checkedReduce(state, { type: "admitted", participants: [person("p7")], presenter_mode: false, chat_enabled: true });
  assert.equal(state.visitedBy, null);
  assert.equal(isShown(state, "p7"), true); // admitted: shown as everyone is
});

test("a waiting participant's own changes reach `self`", () => {
  const you = person("p1", { waiting: true });
  let state = reduce(initialState(), joined({ you, participants: [] }));
  state = checkedReduce(state, { type: "permission-changed", participant_id: "p1", capability: "camera", held: false, by: "p2" });
  assert.equal(can(state, "camera"), false);
  assert.equal(state.participants.size, 0);
});

test("disconnected is kept as sent, `until` included", () => {
  const frame = { type: "disconnected", reason: "removed", until: "2026-12-06T16:00:00+00:00" };
  assert.deepEqual(run(frame).disconnect, frame);
});

test("frames that change no room state return the state itself", () => {
  const state = run();
  for (const frame of [
    { type: "chat", id: 1, from: "p2", from_name: "B", to: null, to_name: null, text: "hi", at: "2026-12-06T04:00:00+00:00" },
    { type: "notice", code: "successor", message: "…" },
    { type: "meeting-ended", reason: "ended" },
    { type: "reconnect", reason: "worker_lost" },
    { type: "subscribe-offer", sdp: "v=0", version: 1, consumers: [] },
    { type: "publish-answer", sdp: "v=0", producers: [], ref: "2" },
    { type: "moderated", action: "ban", version: 3, ref: "3" },
    { type: "pong", ref: "4" },
    { type: "source-changed", participant_id: "nobody", source: "camera", on: true, by: null },
    { type: "source-changed", participant_id: "p1", source: "camera", on: false, by: null },
    { type: "floor-changed", participant_id: "p1", floor: false },
    { type: "visit-ended", moderator_id: "nobody", participant_id: "p9" },
  ]) assert.equal(reduce(state, frame), state, frame.type);
});

test("the reducer works on a deeply frozen state", () => {
  let state = deepFreeze(run({ type: "participant-joined", participant: person("p2") }));
  for (const frame of [
    { type: "track-published", participant_id: "p2", source: "camera", kind: "video" },
    { type: "source-changed", participant_id: "p2", source: "camera", on: true, by: null },
    { type: "permission-changed", participant_id: "p1", capability: "chat", held: false, by: null },
    { type: "role-changed", participant_id: "p2", role: "moderator" },
    { type: "visit-started", moderator_id: "p1", participant_id: "p2" },
    { type: "admitted", participants: [person("p3")], presenter_mode: false, chat_enabled: true },
    { type: "sent-back" },
  ]) state = deepFreeze(reduce(state, frame));
  assert.equal(selfOf(state).waiting, true);
});

// -- selectors -------------------------------------------------------------------------------------

test("labelOf: oneself as You, others by name or the server's label", () => {
  const hidden = person("p2", { name: null, label: "Participant 2" });
  let state = run({ type: "participant-joined", participant: hidden });
  assert.equal(labelOf(state, selfOf(state)), "Name p1 (you)");
  assert.equal(labelOf(state, hidden), "Participant 2");
  assert.equal(labelOf(state, null), "Someone");
  assert.equal(labelOf(state, { id: "x", name: null, label: null }), "Participant");
  state = reduce(initialState(), joined({ names_visible: false }));
  assert.equal(labelOf(state, selfOf(state)), "You");
});

test("mayChat: the permission, and chat on unless one moderates", () => {
  assert.equal(mayChat(run({ type: "room-changed", presenter_mode: false, chat_enabled: false })), true);
  const participant = reduce(initialState(), joined({ you: person("p1"), chat_enabled: false }));
  assert.equal(mayChat(participant), false);
  assert.equal(mayChat(reduce(participant, { type: "room-changed", presenter_mode: false, chat_enabled: true })), true);
});

test("needsFloor: presenter mode, no floor, not a moderator", () => {
  const state = reduce(initialState(), joined({ you: person("p1"), presenter_mode: true }));
  assert.equal(needsFloor(state), true);
  assert.equal(needsFloor(reduce(state, { type: "floor-changed", participant_id: "p1", floor: true })), false);
  assert.equal(needsFloor(reduce(state, { type: "role-changed", participant_id: "p1", role: "moderator" })), false);
  assert.equal(needsFloor(run()), false);
});

test("organizerPresent", () => {
  assert.equal(organizerPresent(run()), true);
  const state = reduce(initialState(), joined({ you: person("p1", { role: "moderator" }) }));
  assert.equal(organizerPresent(state), false);
});

// -- generated sequences -----------------------------------------------------------------------------

/** mulberry32: a small seeded generator, so that a failing sequence replays from its seed. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SOURCES = ["microphone", "camera", "screen", "screen-audio"];
const CAPABILITIES = ["microphone", "camera", "screen_share", "chat"];
const ROLES = ["organizer", "moderator", "participant"];

/** A random room event about the people `ids` (some unknown, some gone) and oneself ("p1"). */
function randomFrame(next, ids) {
  const pick = (list) => list[Math.floor(next() * list.length)];
  const pid = pick([...ids, "p1", `p${2 + Math.floor(next() * 8)}`]);
  switch (Math.floor(next() * 9)) {
    case 0: return { type: "participant-joined", participant: person(pid === "p1" ? "p2" : pid, { capabilities: [] }) };
    case 1: return { type: "participant-left", participant_id: pid === "p1" ? "p2" : pid, reason: "left" };
    case 2: return { type: "track-published", participant_id: pid, source: pick(SOURCES), kind: "video" };
    case 3: return { type: "track-unpublished", participant_id: pid, source: pick(SOURCES), kind: "video" };
    case 4: return { type: "source-changed", participant_id: pid, source: pick(SOURCES), on: next() < 0.5, by: null };
    case 5: return { type: "permission-changed", participant_id: pid, capability: pick(CAPABILITIES), held: next() < 0.5, by: null };
    case 6: return { type: "role-changed", participant_id: pid, role: pick(ROLES) };
    case 7: return { type: "floor-changed", participant_id: pid, floor: next() < 0.5 };
    default: return { type: "room-changed", presenter_mode: next() < 0.5, chat_enabled: next() < 0.5 };
  }
}

/** The same events applied to plain mutable records: what the reducer's state must agree with. */
function applyToModel(model, frame) {
  const p = frame.participant_id && model.people.get(frame.participant_id);
  const toggle = (set, item, on) => (on ? set.add(item) : set.delete(item));
  switch (frame.type) {
    case "participant-joined": {
      const q = frame.participant;
      model.people.set(q.id, { role: q.role, floor: q.floor, tracks: new Set(q.tracks),
        sources_on: new Set(q.sources_on), capabilities: new Set(q.capabilities) });
      break;
    }
    case "participant-left": model.people.delete(frame.participant_id); break;
    case "track-published": if (p) p.tracks.add(frame.source); break;
    case "track-unpublished": if (p) p.tracks.delete(frame.source); break;
    case "source-changed": if (p) toggle(p.sources_on, frame.source, frame.on); break;
    case "permission-changed": if (p) toggle(p.capabilities, frame.capability, frame.held); break;
    case "role-changed": if (p) p.role = frame.role; break;
    case "floor-changed": if (p) p.floor = frame.floor; break;
    case "room-changed": model.presenterMode = frame.presenter_mode; model.chatEnabled = frame.chat_enabled; break;
    default: break;
  }
}

function checkInvariants(state, model, where) {
  assert.deepEqual([...state.participants.keys()].sort(), [...model.people.keys()].sort(), `${where}: who is there`);
  for (const [id, p] of state.participants) {
    const m = model.people.get(id);
    assert.equal(p.id, id, `${where}: key and id`);
    for (const list of ["tracks", "sources_on", "capabilities"]) {
      assert.equal(new Set(p[list]).size, p[list].length, `${where}: ${list} of ${id} has duplicates`);
      assert.deepEqual([...p[list]].sort(), [...m[list]].sort(), `${where}: ${list} of ${id}`);
    }
    assert.equal(p.role, m.role, `${where}: role of ${id}`);
    assert.equal(p.floor, m.floor, `${where}: floor of ${id}`);
  }
  assert.equal(selfOf(state).id, "p1", `${where}: self`);
  assert.equal(state.participants.get("p1"), state.self, `${where}: self is the admitted entry`);
  assert.equal(state.presenterMode, model.presenterMode, `${where}: presenter mode`);
  assert.equal(state.chatEnabled, model.chatEnabled, `${where}: chat`);
}

for (const seed of [1, 2, 3, 42, 1234, 99991]) {
  test(`generated room events keep the invariants (seed ${seed})`, () => {
    const next = random(seed);
    const you = person("p1", { role: "organizer" });
    let state = reduce(initialState(), joined({ you }));
    const model = { people: new Map(), presenterMode: false, chatEnabled: true };
    applyToModel(model, { type: "participant-joined", participant: you });
    const history = [];
    for (let step = 0; step < 400; step++) {
      const frame = randomFrame(next, [...state.participants.keys()]);
      history.push(frame);
      const before = state;
      state = checkedReduce(state, frame);
      applyToModel(model, frame);
      const where = `seed ${seed}, step ${step} (${JSON.stringify(frame)})`;
      checkInvariants(state, model, where);
      // applying the same event again changes nothing: every event sets, none toggles
      if (frame.type !== "participant-joined") assert.equal(reduce(state, frame), state, `${where}: not idempotent`);
      // and a frame about someone unknown leaves the state as it was
      if (frame.participant_id && !before.participants.has(frame.participant_id)) assert.equal(state, before, where);
    }
    assert.ok(history.some((f) => f.type === "participant-left") && history.some((f) => f.type === "permission-changed"));
  });
}
