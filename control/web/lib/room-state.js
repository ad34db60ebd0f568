// The room as one participant sees it, kept by a pure reducer: `reduce(state, frame)` returns the state
// after a server frame (docs/signaling.md) without touching its input, and the same object when the
// frame changes nothing, so that the Meeting can tell by identity whether to announce a change. No DOM,
// no WebSocket, no RTCPeerConnection here: this module runs under node's test runner as it is.

/** A source's media kind, and the capability that allows publishing it. */
export const KIND = { microphone: "audio", camera: "video", screen: "video", "screen-audio": "audio" };
export const CAPABILITY = { microphone: "microphone", camera: "camera", screen: "screen_share", "screen-audio": "screen_share" };

/** The state before `joined`. `participants`: id → participant object, the admitted people including
 * oneself, in order of arrival; `self`: one's own object, also while waiting (then not in
 * `participants`); `waiting`: the waiting room (sent to moderators only); `namesVisible`: whether the
 * server shows this participant others' names ("Show all usernames"), else they come as `name: null`
 * with a `label` such as "Participant 3"; `waitingFor`: why one waits, from `joined` ("moderator": nobody
 * who moderates is there yet; "admission"), null once admitted; `disconnect`: the `disconnected` frame,
 * once received; `visitedBy`: the moderator visiting oneself while one waits (null: nobody). */
export function initialState() {
  return {
    meetingId: null,
    participantId: null,
    self: null,
    participants: new Map(),
    waiting: [],
    presenterMode: false,
    chatEnabled: true,
    features: {},
    namesVisible: false,
    waitingFor: null,
    visitedBy: null,
    disconnect: null,
  };
}

/** The state after `frame`; `state` itself when the frame changes nothing (replies other than `joined`,
 * chat, notices, frames about someone unknown, a change already applied). */
export function reduce(state, frame) {
  switch (frame.type) {
    case "joined":
      return withRoom({ ...state, meetingId: frame.meeting_id, participantId: frame.participant_id, self: frame.you,
        namesVisible: Boolean(frame.names_visible), waiting: frame.waiting || [], features: frame.features || {},
        waitingFor: frame.waiting_for || null }, frame);
    case "admitted":
      return withRoom({ ...state, self: state.self && { ...state.self, waiting: false }, waitingFor: null, visitedBy: null },
        frame);
    case "sent-back":
      return { ...state, self: state.self && { ...state.self, waiting: true, floor: false }, participants: new Map() };
    case "participant-joined":
      return { ...state, participants: new Map(state.participants).set(frame.participant.id, frame.participant) };
    case "participant-left": {
      if (!state.participants.has(frame.participant_id)) return state;
      const participants = new Map(state.participants);
      participants.delete(frame.participant_id);
      return { ...state, participants };
    }
    case "waiting-room":
      return { ...state, waiting: frame.waiting };
    case "track-published":
      return update(state, frame.participant_id, (p) => field(p, "tracks", added(p.tracks, frame.source)));
    case "track-unpublished":
      return update(state, frame.participant_id, (p) => field(p, "tracks", removed(p.tracks, frame.source)));
    case "source-changed":
      return update(state, frame.participant_id, (p) =>
        field(p, "sources_on", frame.on ? added(p.sources_on, frame.source) : removed(p.sources_on, frame.source)));
    case "permission-changed":
      return update(state, frame.participant_id, (p) =>
        field(p, "capabilities", frame.held ? added(p.capabilities, frame.capability) : removed(p.capabilities, frame.capability)));
    case "role-changed":
      return update(state, frame.participant_id, (p) => field(p, "role", frame.role));
    case "floor-changed":
      return update(state, frame.participant_id, (p) => field(p, "floor", frame.floor));
    case "participant-hidden": // to moderators and the person; the others get participant-left/-joined
      return update(state, frame.participant_id, (p) => field(p, "hidden", frame.hidden));
    case "visit-started":
    case "visit-ended": {
      const visiting = frame.type === "visit-started" ? frame.participant_id : null;
      const next = update(state, frame.moderator_id, (p) => field(p, "visiting", visiting));
      // the visited person: whose media to show while waiting (a waiting person knows nobody else)
      if (frame.participant_id !== state.participantId) return next;
      return field(next, "visitedBy", visiting === null ? null : frame.moderator_id);
    }
    case "room-changed":
      if (state.presenterMode === frame.presenter_mode && state.chatEnabled === frame.chat_enabled) return state;
      return { ...state, presenterMode: frame.presenter_mode, chatEnabled: frame.chat_enabled };
    case "disconnected":
      // Kept as the server sent it: `until` (removals) is read where it is shown (app/meeting-ui.js).
      return { ...state, disconnect: frame };
    default:
      return state;
  }
}

/** The room part of `joined` and `admitted`: the admitted people (oneself among them unless waiting),
 * presenter mode and chat. */
function withRoom(state, frame) {
  const participants = new Map((frame.participants || []).map((p) => [p.id, p]));
  const { self } = state;
  if (self && !participants.has(self.id) && !self.waiting) participants.set(self.id, self);
  return { ...state, participants, presenterMode: Boolean(frame.presenter_mode), chatEnabled: frame.chat_enabled !== false };
}

/** `change` applied to one admitted participant, or to oneself while waiting; unknown people are ignored. */
function update(state, pid, change) {
  const current = state.participants.get(pid) || (pid === state.participantId ? state.self : null);
  if (!current) return state;
  const next = change(current);
  if (next === current) return state;
  const out = { ...state };
  if (state.participants.has(pid)) out.participants = new Map(state.participants).set(pid, next);
  if (pid === state.participantId) out.self = next;
  return out;
}

function field(p, name, value) {
  return p[name] === value ? p : { ...p, [name]: value };
}

function added(list = [], item) {
  return list.includes(item) ? list : [...list, item];
}

function removed(list = [], item) {
  return list.includes(item) ? list.filter((x) => x !== item) : list;
}

// -- selectors -------------------------------------------------------------------------------------

/** One's own participant object (null before `joined`). */
export function selfOf(state) {
  return state.participants.get(state.participantId) || state.self || null;
}

/** Whether one holds a capability ("microphone", "camera", "screen_share", "chat"). */
export function can(state, capability) {
  const self = selfOf(state);
  return Boolean(self && (self.capabilities || []).includes(capability));
}

export function moderates(state) {
  const self = selfOf(state);
  return Boolean(self && (self.role === "organizer" || self.role === "moderator"));
}

/** Someone by id: admitted, oneself, or in the waiting room (whom a moderator may visit). */
export function personOf(state, pid) {
  return state.participants.get(pid) || (pid === state.participantId ? selfOf(state) : null)
    || state.waiting.find((w) => w.id === pid) || null;
}

/** Whether someone's media is to be shown: oneself, the admitted, the person one visits, and the
 * moderator visiting oneself in the waiting room. */
export function isShown(state, pid) {
  return pid === state.participantId || state.participants.has(pid) || selfOf(state)?.visiting === pid
    || (pid !== null && state.visitedBy === pid);
}

/** A small label for someone. The server applies "Show all usernames": without it, others come with
 * `name: null` and a `label` such as "Participant 3". */
export function labelOf(state, p) {
  if (!p) return "Someone";
  if (p.id === state.participantId) return state.namesVisible && p.name ? `${p.name} (you)` : "You";
  return p.name || p.label || "Participant";
}

/** Whether one may send chat now: the chat permission, and chat on in the room (moderators always). */
export function mayChat(state) {
  return can(state, "chat") && (state.chatEnabled || moderates(state));
}

/** Whether turning the microphone on needs the floor one lacks (presenter mode; moderators speak). */
export function needsFloor(state) {
  const self = selfOf(state);
  return Boolean(state.presenterMode && self && !self.floor && !moderates(state));
}

/** Whether an organizer is among the admitted. */
export function organizerPresent(state) {
  return [...state.participants.values()].some((p) => p.role === "organizer");
}
