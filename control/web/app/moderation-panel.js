// The moderators' side panel (the waiting room with admit, deny and visit; actions for the whole room; the
// room's bans) and the knock banner that announces someone new in the waiting room.

import { organizerPresent } from "../lib/room-state.js";
import { act, fill, h } from "../lib/dom.js";
import { chime } from "./chime.js";

/** One moderation action from `control` (a button, busy meanwhile), announcing `done` once accepted. */
export function moderate(meeting, control, action, args, done) {
  return act(control, () => meeting.moderate(action, args), done);
}

/** The panel's content goes into `moderation`; `knock` is the banner over the stage; `toggleButton` opens the
 * panel (`showPanel()` toggles it, `isOpen()` says whether it is open). `podium`: the REST client, for the
 * room's bans (registered moderators only). Returns `render` (after any change of the room) and
 * `refreshBans` (after a ban or an unban). */
export function createModerationPanel(meeting, { podium, roomId, moderation, knock, toggleButton, showPanel, isOpen }) {
  function render() {
    toggleButton.hidden = !meeting.moderates;
    moderation.hidden = !meeting.moderates;
    if (!meeting.moderates) {
      if (isOpen()) showPanel();
      return;
    }
    renderKnock();
    const self = meeting.self;
    const roomButton = (text, action, done, confirmation = null) => {
      const button = h("button", { type: "button", class: confirmation ? "danger" : null }, text);
      button.addEventListener("click", () => {
        if (confirmation && !confirm(confirmation)) return;
        moderate(meeting, button, action, {}, done);
      });
      return button;
    };
    const waitingList = h("ul", { class: "people", id: "waiting-list", "aria-label": "Waiting room" },
      meeting.waiting.length ? meeting.waiting.map((p) => {
        const who = p.name || p.label || "Someone waiting";
        const visiting = self.visiting === p.id;
        return h("li", { dataset: { participantId: p.id } }, h("strong", {}, who), " ",
          h("div", { class: "actions", role: "group", "aria-label": "Waiting: " + who },
            h("button", { type: "button", class: "primary", "aria-label": "Admit " + who,
              onclick: (e) => moderate(meeting, e.target, "admit", { target: p.id }, `${who} admitted.`) }, "Admit"),
            h("button", { type: "button", "aria-label": "Deny " + who,
              onclick: (e) => moderate(meeting, e.target, "deny", { target: p.id }, `${who} turned away.`) }, "Deny"),
            visiting ? h("button", { type: "button", "aria-label": "End visit with " + who,
              onclick: (e) => moderate(meeting, e.target, "end_visit", {}, "Visit ended.") }, "End visit")
              : h("button", { type: "button", "aria-label": "Visit " + who,
                onclick: (e) => moderate(meeting, e.target, "visit", { target: p.id }, `Visiting ${who}: only the two of you hear and see each other.`) }, "Visit")));
      }) : h("li", { class: "muted" }, "Nobody is waiting."));
    const unban = h("form", { class: "inline", id: "unban-form", "aria-label": "Unban a person" },
      h("label", {}, "Person key", h("input", { type: "text", name: "person", required: true, maxlength: 64,
        "aria-describedby": "unban-help" })),
      h("button", { type: "submit" }, "Unban"));
    unban.addEventListener("submit", (event) => {
      event.preventDefault();
      moderate(meeting, unban.querySelector("button"), "unban", { person: unban.elements.person.value.trim() }, "Unbanned.")
        .then(refreshBans);
    });
    if (!bansLoaded) refreshBans();
    const tools = [
      roomButton("Mute everyone's microphone", "mute_all_audio", "Every microphone is off."),
      roomButton("Turn everyone's camera off", "mute_all_video", "Every camera is off."),
      roomButton("Mute microphones and cameras", "mute_all_both", "Every microphone and camera is off."),
      meeting.presenterMode ? roomButton("Stop presenter mode", "stop_presenter_mode", "Presenter mode off.")
        : roomButton("Presenter mode (only the floor speaks)", "start_presenter_mode", "Presenter mode on."),
      self.floor ? null : h("button", { type: "button", onclick: (e) => moderate(meeting, e.target, "give_floor", { target: meeting.participantId }, "You have the floor.") }, "Take the floor myself"),
      meeting.chatEnabled ? roomButton("Turn chat off for participants", "disable_chat_room", "Chat is off.")
        : roomButton("Turn chat on", "enable_chat_room", "Chat is on."),
      self.role === "organizer" || !organizerPresent(meeting.room)
        ? roomButton("End the meeting for everyone", "end_meeting", "Meeting ended.", "End the meeting for everyone? Everyone will be disconnected.") : null,
      podium && meeting.meetingId ? h("button", { type: "button", id: "attendance-download", onclick: (e) => act(e.target,
        () => podium.download(`/meetings/${meeting.meetingId}/attendance`, { query: { format: "csv" }, filename: `attendance-${meeting.meetingId}.csv` }),
        "Attendance report downloaded.") }, "Download attendance (CSV)") : null,
    ].filter(Boolean);
    const focused = moderation.contains(document.activeElement) ? document.activeElement.textContent : null;
    fill(moderation, h("h2", { id: "moderation-title", class: "skip" }, "Moderation"),
      h("h3", {}, `Waiting room (${meeting.waiting.length})`), waitingList,
      h("h3", {}, "Everyone"), h("div", { class: "actions", role: "group", "aria-label": "Room actions" }, tools),
      h("h3", {}, "Bans"), podium ? bansList : null, unban,
      h("p", { id: "unban-help", class: "muted" }, "A person key is u:<user id> for a registered user, or a guest's invitee key from the invitation list."));
    if (focused) [...moderation.querySelectorAll("button")].find((b) => b.textContent === focused)?.focus();
  }

  // a knock: someone new in the waiting room raises an alert with a chime, until admitted or gone
  let knownWaiting = null; // ids already announced (null: none seen yet, so those waiting at join are announced too)
  function renderKnock() {
    const waiting = meeting.waiting;
    const ids = new Set(waiting.map((p) => p.id));
    const arrived = waiting.filter((p) => !knownWaiting || !knownWaiting.has(p.id));
    knownWaiting = ids;
    toggleButton.textContent = waiting.length ? `Moderation (${waiting.length} waiting)` : "Moderation";
    if (!waiting.length) { knock.hidden = true; return; }
    if (!arrived.length && knock.hidden) return; // dismissed: only a new arrival raises it again
    const names = waiting.map((p) => p.name || p.label || "Someone");
    fill(knock, h("span", {}, waiting.length === 1 ? `${names[0]} is waiting to be let in.`
      : `${waiting.length} people are waiting to be let in: ${names.join(", ")}.`), " ",
    h("button", { type: "button", class: "primary", onclick: () => { if (!isOpen()) showPanel(); knock.hidden = true; } }, "Open the waiting room"),
    h("button", { type: "button", "aria-label": "Dismiss", onclick: () => { knock.hidden = true; } }, "×"));
    knock.hidden = false;
    if (arrived.length) chime(880);
  }

  // the room's bans (REST, for registered moderators): each with an Unban button
  const bansList = h("ul", { class: "people", id: "bans-list", "aria-label": "Banned from this room" });
  let bansLoaded = false;
  async function refreshBans() {
    if (!podium || !meeting.moderates) return;
    bansLoaded = true;
    let bans;
    try {
      bans = (await podium.get(`/rooms/${encodeURIComponent(roomId)}/bans`)).items;
    } catch {
      fill(bansList, h("li", { class: "muted" }, "The list of bans could not be loaded."));
      return;
    }
    fill(bansList, bans.length ? bans.map((b, i) => {
      const who = b.name || `Banned person ${i + 1}`;
      return h("li", { dataset: { person: b.person } }, h("strong", {}, who), " ", h("span", { class: "muted" }, b.person), " ",
        h("button", { type: "button", "aria-label": "Unban " + who,
          onclick: (e) => moderate(meeting, e.target, "unban", { person: b.person }, `${who} may come back.`).then(refreshBans) }, "Unban"));
    }) : h("li", { class: "muted" }, "Nobody is banned."));
  }

  return { render, refreshBans };
}
