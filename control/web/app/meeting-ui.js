// The meeting view shared by registered users (meeting.html) and guests (join.html): video grid,
// media buttons that show the permission state, chat, participant list, and the moderator panel.

import { Meeting, MeetingError, CAPABILITY } from "../lib/meeting.js";
import { offeredWebTransport } from "../lib/webtransport.js";
import { isShown, labelOf, mayChat, needsFloor, personOf } from "../lib/room-state.js";
import { act, fill, h, say, showError } from "../lib/dom.js";
import { watchShown } from "../lib/views.js";
import { createStage, initials } from "./meeting-stage.js";
import { mountRecording } from "./recording.js";
import { chime } from "./chime.js";
import { attachFiles } from "./meeting-files.js";
import { createModerationPanel, moderate as moderateAs } from "./moderation-panel.js";

const SOURCES = [["microphone", "Microphone"], ["camera", "Camera"], ["screen", "Share screen"]];
const PERMISSIONS = [["microphone", "Microphone"], ["camera", "Camera"], ["screen_share", "Screen sharing"], ["chat", "Chat"], ["files", "Files"]];
const DISCONNECT = {
  left: "You left the meeting.",
  handed_over: "You handed the meeting over and left.",
  denied: "A moderator did not let you in.",
  excluded: "A moderator removed you from this meeting.",
  removed: "A moderator removed you from this room",
  banned: "A moderator banned you from this room.",
  revoked: "Your invitation was withdrawn, so you are no longer in the meeting.",
  company_suspended: "This organisation's account was suspended, so the meeting ended for you.",
  room_deleted: "This room was deleted, so the meeting ended.",
  meeting_ended: "The meeting has ended.",
  empty: "The meeting has ended: nobody remained.",
  replaced: "You joined this meeting from another tab or window, so it was closed here.",
  joined_elsewhere: "You joined this meeting from another tab or window, so it was closed here.",
};

/** Run a meeting in `root`. `token`: an access token or a guest token. Which names show is the server's
 * decision (the `joined` frame's `names_visible`). `podium`: the REST client (registered users: attendance
 * download, the room's bans). `onEnd(message)`: called when the session ends. Resolves to the Meeting once
 * joined. `start`: the pre-join choices ({microphone, camera}: {on, track}; app/prejoin.js). `offered`: the
 * promise of lib/webtransport.js offeredWebTransport(), asked before the pre-join check so that joining
 * does not wait for it. */
export async function runMeeting(root, { token, roomId, podium = null, onEnd = () => {}, publish = true, start = null,
  offered = offeredWebTransport() }) {
  // signaling over WebTransport where the server offers it and the browser can, else the WebSocket
  const webTransport = await offered;
  const meeting = new Meeting({ token, roomId, webTransport }); // `token` may be a function that refreshes it
  window.podiumMeeting = meeting; // for integrators' debugging and the end-to-end tests
  // the connection opens while the view is built below: no frame is handled before that is done (it
  // runs in this task), so every listener is in place for the first one
  const joining = meeting.join();
  const label = (p) => labelOf(meeting.room, p);

  const waitingNotice = h("p", { id: "waiting-notice", class: "banner", role: "status", hidden: true },
    "You are in the waiting room. A moderator will let you in shortly.");
  // shown while the Meeting resumes a lost connection by itself (lib/reconnect.js)
  const reconnecting = h("p", { id: "reconnecting", class: "banner reconnecting", role: "status", "aria-live": "assertive", hidden: true },
    "Reconnecting…");
  // a waiting-room arrival, for moderators: an alert (and a chime) where they look, not below the fold
  const knock = h("div", { id: "knock", class: "banner knock", role: "alert", hidden: true });
  const stage = createStage(meeting, label);
  const sounds = h("div", { hidden: true });
  const controls = h("div", { class: "controls", id: "controls", role: "toolbar", "aria-label": "Meeting controls" });
  const people = h("ul", { class: "people", id: "people" });
  const peopleTitle = h("h2", { id: "people-title" }, "Participants");
  const chatLog = h("ol", { class: "chat-log", id: "chat-log", "aria-live": "polite", "aria-label": "Chat messages" });
  const chatTo = h("select", { name: "to", id: "chat-to" });
  const chatText = h("input", { type: "text", name: "text", id: "chat-text", maxlength: 4000, required: true, autocomplete: "off" });
  const chatForm = h("form", { class: "stack", id: "chat-form", "aria-label": "Send a chat message" },
    h("label", { for: "chat-to" }, "To"), chatTo, h("label", { for: "chat-text" }, "Message"), chatText,
    h("button", { type: "submit" }, "Send"));
  const chatNote = h("p", { class: "muted", id: "chat-note", hidden: true });
  const moderation = h("section", { id: "moderation", class: "panel-body", "aria-labelledby": "moderation-title", hidden: true });
  const DEVICE_KINDS = { microphone: "audioinput", camera: "videoinput" };
  const pickers = {}; // source → {select, note}, in the Devices panel
  const panels = {
    people: h("section", { id: "panel-people", class: "side-panel", "aria-labelledby": "people-title", hidden: true },
      panelHead(peopleTitle, "people"), h("div", { class: "panel-body" }, people)),
    chat: h("section", { id: "panel-chat", class: "side-panel", "aria-labelledby": "chat-title", hidden: true },
      panelHead(h("h2", { id: "chat-title" }, "Chat"), "chat"), h("div", { class: "panel-body" }, chatLog, chatNote, chatForm)),
    moderation: h("section", { id: "panel-moderation", class: "side-panel", "aria-label": "Moderation", hidden: true },
      panelHead(h("h2", {}, "Moderation"), "moderation"), moderation),
    settings: h("section", { id: "panel-settings", class: "side-panel", "aria-labelledby": "settings-title", hidden: true },
      panelHead(h("h2", { id: "settings-title" }, "Devices"), "settings"), h("div", { class: "panel-body stack" }, devicePickers())),
  };
  const side = h("aside", { class: "side", id: "side", hidden: true }, Object.values(panels));
  const roomName = document.getElementById("title")?.textContent || "Meeting";
  fill(root,
    h("div", { class: "meeting-app", id: "meeting-app" },
      h("header", { class: "meeting-top" }, h("span", { class: "room-name" }, roomName)),
      h("div", { class: "meeting-main" },
        h("div", { class: "stage-wrap" }, reconnecting, waitingNotice, knock, stage.element),
        side),
      controls, sounds));
  document.body.classList.add("in-meeting");
  // each new notice restarts the toast's fade (two animation names alternate, which restarts it)
  const status = document.getElementById("status");
  if (status) new MutationObserver(() => status.classList.toggle("again")).observe(status, { childList: true, characterData: true, subtree: true });

  // -- side panels: one open at a time, beside the stage (over it on a phone) ---------------------
  let openPanel = null;
  function panelHead(title, name) {
    return h("div", { class: "panel-head" }, title,
      h("button", { type: "button", class: "close", "aria-label": "Close", onclick: () => showPanel(name) }, "×"));
  }
  function showPanel(name) {
    openPanel = openPanel === name ? null : name;
    for (const [key, panel] of Object.entries(panels)) panel.hidden = key !== openPanel;
    side.hidden = !openPanel;
    for (const [key, button] of Object.entries(panelButtons)) button.setAttribute("aria-expanded", String(key === openPanel));
    if (openPanel === "chat") chatText.focus();
    if (openPanel === "settings") listDevices();
  }

  // -- device choice during the meeting: a new track replaces the old one on the same sender ---------
  function devicePickers() {
    return Object.keys(DEVICE_KINDS).map((source) => {
      const select = h("select", { id: `${source}-device`, onchange: () => switchDevice(source) });
      const note = h("p", { class: "muted", id: `${source}-device-note`, hidden: true });
      pickers[source] = { select, note };
      return h("div", { class: "field" }, h("label", { for: select.id }, source === "camera" ? "Camera" : "Microphone"), select, note);
    });
  }
  async function listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
    for (const [source, kind] of Object.entries(DEVICE_KINDS)) {
      const { select, note } = pickers[source];
      const local = meeting.local.get(source);
      const current = local && local.track ? local.track.getSettings().deviceId : null;
      const choices = devices.filter((d) => d.kind === kind);
      fill(select, choices.map((d, i) => h("option", { value: d.deviceId }, d.label || `${source === "camera" ? "Camera" : "Microphone"} ${i + 1}`)));
      if (current) select.value = current;
      select.disabled = !local;
      note.hidden = Boolean(local);
      note.textContent = `Your ${source} is not in use in this meeting.`;
    }
  }
  async function switchDevice(source) {
    const { select } = pickers[source];
    const label = select.selectedOptions[0]?.textContent || "the chosen device";
    await act(select, () => meeting.publish(source, { constraints: { deviceId: { exact: select.value } } }),
      `${source === "camera" ? "Camera" : "Microphone"}: ${label}.`);
    listDevices();
  }
  const tiles = stage.tiles;
  /** mid → stops watching how its remote video is shown (lib/views.js) */
  const watching = new Map();
  const tileFor = (pid, source) => stage.tileFor(pid, source);
  const dropTile = (pid, source) => stage.dropTile(pid, source);
  const labelTiles = () => stage.sync();

  meeting.addEventListener("track", ({ detail }) => {
    if (detail.kind === "audio") {
      const audio = h("audio", { autoplay: true, dataset: { mid: detail.mid, participantId: detail.participantId, source: detail.source } });
      audio.srcObject = detail.stream;
      sounds.append(audio);
      audio.play().catch(() => {});
    } else {
      const { video } = tileFor(detail.participantId, detail.source);
      video.srcObject = detail.stream;
      video.play().catch(() => {});
      labelTiles();
      // how big it is shown picks its simulcast layer (and pauses it while not shown)
      watching.get(detail.mid)?.();
      watching.set(detail.mid, watchShown(video, (width, height) => meeting.view(detail.mid, width, height)));
    }
  });
  meeting.addEventListener("track-ended", ({ detail }) => {
    watching.get(detail.mid)?.();
    watching.delete(detail.mid);
    sounds.querySelector(`audio[data-mid="${detail.mid}"]`)?.remove();
    if (detail.source === "screen") dropTile(detail.participantId, "screen");
  });
  meeting.addEventListener("participant-left", ({ detail }) => stage.dropPerson(detail.participant_id));

  // -- my media buttons ------------------------------------------------------------------------
  const buttons = {};
  for (const [source, text] of SOURCES) {
    const state = h("span", { class: "state" });
    const reason = h("span", { id: `${source}-reason`, class: "skip" });
    const button = h("button", { type: "button", id: `${source}-button`, "aria-pressed": "false",
      "aria-describedby": `${source}-reason`, onclick: () => toggle(source) }, text, state);
    buttons[source] = { button, state, reason };
    controls.append(button, reason);
  }
  const blur = h("button", { type: "button", id: "blur-button", "aria-pressed": "false", hidden: true, onclick: toggleBlur }, "Blur background");
  const layoutButton = h("button", { type: "button", id: "layout-button", "aria-pressed": "false", onclick: () => {
    const speaker = layoutButton.getAttribute("aria-pressed") !== "true";
    layoutButton.setAttribute("aria-pressed", String(speaker));
    stage.setLayout(speaker ? "speaker" : "grid");
  } }, "Speaker view");
  const panelButton = (name, text) => h("button", { type: "button", class: "panel-toggle", id: `${name}-toggle`,
    "aria-expanded": "false", "aria-controls": `panel-${name}`, onclick: () => showPanel(name) }, text);
  const panelButtons = { chat: panelButton("chat", "Chat"), people: panelButton("people", "People"),
    moderation: panelButton("moderation", "Moderation"), settings: panelButton("settings", "Devices") };
  panelButtons.moderation.hidden = true;
  const leave = h("button", { type: "button", class: "danger leave", id: "leave-button", onclick: () => act(leave, () => meeting.leave()) }, "Leave");
  controls.append(blur, layoutButton, h("span", { class: "divider", "aria-hidden": "true" }), ...Object.values(panelButtons), leave);
  // in the control bar, not over the stage, where it covered the tiles' pin buttons
  mountRecording(meeting, controls);
  controls.prepend(controls.lastChild);

  // keyboard shortcuts, as in the meeting apps people know: Ctrl+D microphone, Ctrl+E camera
  const SHORTCUTS = { d: "microphone", e: "camera" };
  buttons.microphone.button.setAttribute("aria-keyshortcuts", "Control+D");
  buttons.camera.button.setAttribute("aria-keyshortcuts", "Control+E");
  function shortcut(event) {
    const source = (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && SHORTCUTS[event.key.toLowerCase()];
    if (!source) return;
    event.preventDefault();
    toggle(source);
  }
  document.addEventListener("keydown", shortcut);

  function renderButtons() {
    const self = meeting.self;
    for (const [source, { button, state, reason }] of Object.entries(buttons)) {
      const allowed = meeting.can(CAPABILITY[source]);
      const entry = meeting.local.get(source);
      const on = Boolean(entry && entry.on && self && self.sources_on.includes(source));
      const screenBlocked = source === "screen" && self && self.waiting;
      let text;
      let why = "";
      if (!allowed) {
        text = "not allowed";
        why = `You may not use your ${source === "screen" ? "screen" : source}: a moderator or the room's settings do not allow it.`;
      } else if (on) text = "on";
      else text = "off";
      if (source === "microphone" && allowed && !on && needsFloor(meeting.room)) {
        why = "Presenter mode: only people with the floor may speak.";
      }
      state.textContent = text;
      reason.textContent = why;
      button.dataset.state = !allowed ? "revoked" : on ? "on" : "off";
      button.setAttribute("aria-pressed", String(on));
      // aria-disabled, not disabled: the button stays focusable, so its reason can be read
      button.setAttribute("aria-disabled", String(!allowed || Boolean(screenBlocked)));
    }
    const camera = meeting.local.get("camera");
    const caps = camera && camera.track && camera.track.getCapabilities ? camera.track.getCapabilities() : {};
    blur.hidden = !(Array.isArray(caps.backgroundBlur) && caps.backgroundBlur.includes(true));
  }

  async function toggle(source) {
    const { button, reason } = buttons[source];
    if (button.getAttribute("aria-disabled") === "true") {
      say(reason.textContent || "Not available in the waiting room.");
      return;
    }
    const entry = meeting.local.get(source);
    const self = meeting.self;
    const on = Boolean(entry && entry.on && self && self.sources_on.includes(source));
    await act(button, async () => {
      if (source === "screen") {
        if (on) return meeting.unpublish("screen");
        // a share a moderator stopped (the permission taken away) is cleared first: one click shares anew
        if (entry) await meeting.unpublish("screen");
        await meeting.publishScreen();
        return;
      }
      if (!entry) await meeting.publish(source);
      else await meeting.setSource(source, !on);
    }, () => `${source === "screen" ? "Screen sharing" : source[0].toUpperCase() + source.slice(1)} ${on ? "off" : "on"}.`);
    renderButtons();
  }

  async function toggleBlur() {
    const camera = meeting.local.get("camera");
    if (!camera) return;
    const next = blur.getAttribute("aria-pressed") !== "true";
    await act(blur, () => camera.track.applyConstraints({ advanced: [{ backgroundBlur: next }] }),
      next ? "Background blurred." : "Background blur off.");
    blur.setAttribute("aria-pressed", String(next));
  }

  meeting.addEventListener("local", ({ detail }) => {
    if (detail.source === "camera" || detail.source === "screen") {
      if (detail.track) {
        const { video } = tileFor(meeting.participantId, detail.source);
        if (video.srcObject?.getVideoTracks()[0] !== detail.track) video.srcObject = new MediaStream([detail.track]);
        video.play().catch(() => {});
      } else if (detail.source === "screen") dropTile(meeting.participantId, "screen");
    }
    labelTiles();
    renderButtons();
  });

  // -- participants and moderation -----------------------------------------------------------
  const moderate = (control, action, args, done) => moderateAs(meeting, control, action, args, done);
  const moderationPanel = createModerationPanel(meeting, { podium, roomId, moderation, knock, toggleButton: panelButtons.moderation,
    showPanel: () => showPanel("moderation"), isOpen: () => openPanel === "moderation" });
  const refreshBans = () => moderationPanel.refreshBans();

  // per-person actions sit behind one menu button per row; the open menu survives re-renders
  let openMenu = null; // participant id whose menu is open
  document.addEventListener("click", (event) => {
    if (openMenu && !event.target.closest?.(".person-menu")) { openMenu = null; renderPeople(); }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (openMenu) { const pid = openMenu; openMenu = null; renderPeople(); people.querySelector(`li[data-participant-id="${pid}"] .menu-button`)?.focus(); }
    else if (openPanel) showPanel(openPanel);
  });

  function personActions(p) {
    const self = meeting.self;
    if (!meeting.moderates || p.id === meeting.participantId) return null;
    const who = label(p);
    const open = openMenu === p.id;
    const menuId = `menu-${p.id}`;
    const toggle = h("button", { type: "button", class: "menu-button", "aria-haspopup": "true", "aria-expanded": String(open),
      "aria-controls": menuId, "aria-label": "Actions for " + who, onclick: () => { openMenu = open ? null : p.id; renderPeople(); } }, "⋯");
    // permissions are switches (what the person may do), unlike the media buttons (what is on now)
    const switches = PERMISSIONS.map(([capability, text]) => {
      const held = p.capabilities.includes(capability);
      const button = h("button", { type: "button", role: "switch", class: "switch", "aria-checked": String(held), dataset: { capability },
        "aria-label": `${text} permission of ${who}` }, h("span", { class: "knob", "aria-hidden": "true" }), text);
      button.addEventListener("click", () => moderate(button, held ? "revoke_permission" : "grant_permission",
        { target: p.id, capability }, `${text} permission ${held ? "revoked from" : "granted to"} ${who}.`));
      return button;
    });
    const item = ([text, action, args, done, confirmation]) => {
      const button = h("button", { type: "button", class: confirmation ? "danger" : null, "aria-label": `${text}: ${who}` }, text);
      button.addEventListener("click", () => {
        if (confirmation && !confirm(confirmation)) return;
        const result = moderate(button, action, { target: p.id, ...args }, done);
        if (action === "ban") result.then(refreshBans);
      });
      return button;
    };
    const actions = [
      p.sources_on.includes("microphone") && ["Mute", "turn_off_source", { source: "microphone" }, `${who} muted.`],
      p.sources_on.includes("camera") && ["Stop camera", "turn_off_source", { source: "camera" }, `Camera of ${who} off.`],
      p.floor ? ["Take the floor", "take_floor", {}, `${who} no longer has the floor.`]
        : ["Give the floor", "give_floor", {}, `${who} has the floor.`],
      p.role === "participant" ? ["Make moderator", "appoint_moderator", {}, `${who} is a moderator.`]
        : p.role === "moderator" && self.role === "organizer" ? ["Revoke moderator", "revoke_moderator", {}, `${who} is a participant again.`] : null,
      // only to one who may take the seat (rights for the room): the server refuses anyone else
      self.role === "organizer" && p.role === "moderator" && p.may_organize ? ["Hand over", "hand_over", {}, `You handed the meeting to ${who}.`] : null,
      meeting.features.waiting_room ? ["Send to waiting room", "send_back", {}, `${who} is back in the waiting room.`] : null,
      p.hidden ? ["Show to everyone", "unhide", {}, `${who} is listed for everyone again.`]
        : ["Hide from the list", "hide", {}, `${who} is hidden: only moderators see them listed.`],
    ].filter(Boolean);
    const destructive = [
      ["Exclude", "exclude", {}, `${who} was removed from this meeting.`, `Remove ${who} from this meeting? They may join again.`],
      ["Remove for 12 hours", "remove_for_period", {}, `${who} was removed for 12 hours.`, `Remove ${who} from this room for 12 hours?`],
      ["Ban", "ban", {}, `${who} was banned.`, `Ban ${who} from this room? They cannot come back until unbanned.`],
    ];
    const menu = h("div", { class: "menu", id: menuId, hidden: !open, role: "group", "aria-label": "Moderate " + who },
      h("p", { class: "menu-title" }, "Permissions"), h("div", { class: "switches" }, switches),
      h("p", { class: "menu-title" }, "Actions"), actions.map(item),
      h("hr"), destructive.map(item));
    return h("div", { class: "person-menu" }, toggle, menu);
  }

  function renderPeople() {
    const admitted = [...meeting.participants.values()];
    peopleTitle.textContent = `Participants (${admitted.length})`;
    if (!meeting.namesVisible && !meeting.moderates) {
      fill(people, h("li", { id: "people-count" }, `${admitted.length} ${admitted.length === 1 ? "person" : "people"} in the meeting`));
    } else {
      const focused = people.contains(document.activeElement) ? document.activeElement.getAttribute("aria-label") : null;
      fill(people, admitted.map((p) => h("li", { dataset: { participantId: p.id } },
        h("span", { class: "avatar small", "aria-hidden": "true" }, initials(label(p))),
        h("span", { class: "who" }, h("strong", {}, label(p)), " ",
        h("span", { class: "muted" }, [p.role !== "participant" ? p.role : null, p.registered ? null : "guest",
          p.hidden ? "hidden" : null,
          p.floor ? "has the floor" : null, p.sources_on.includes("microphone") ? "microphone on" : "microphone off",
          p.sources_on.includes("camera") ? "camera on" : "camera off"].filter(Boolean).join(", "))),
        personActions(p))));
      if (focused) [...people.querySelectorAll("button")].find((b) => b.getAttribute("aria-label") === focused)?.focus();
    }
    const current = chatTo.value;
    fill(chatTo, h("option", { value: "" }, "Everyone"),
      admitted.filter((p) => p.id !== meeting.participantId).map((p) => h("option", { value: p.id }, label(p))));
    chatTo.value = [...chatTo.options].some((o) => o.value === current) ? current : "";
    const chatAllowed = mayChat(meeting.room);
    chatNote.hidden = chatAllowed;
    chatNote.textContent = !meeting.can("chat") ? "A moderator turned your chat off." : "Chat is off in this meeting.";
    chatForm.querySelector("button").disabled = !chatAllowed;
    chatText.disabled = !chatAllowed;
  }

  function renderAll() {
    const self = meeting.self;
    waitingNotice.hidden = !(self && self.waiting);
    waitingNotice.textContent = meeting.waitingFor === "moderator"
      ? "You are waiting for a moderator: you will be let in when one arrives."
      : "You are in the waiting room. A moderator will let you in shortly.";
    renderButtons();
    renderPeople();
    moderationPanel.render();
    labelTiles();
  }
  meeting.addEventListener("participants", renderAll);

  // -- chat ------------------------------------------------------------------------------------
  attachFiles(meeting, { chatLog, chatForm, chatTo, label, panelBody: panels.chat.querySelector(".panel-body") });
  const shownChat = new Map(); // message id -> its line: the history and live messages meet without repeats, in order
  function showChat(message) {
    if (shownChat.has(message.id)) return;
    // from_name and to_name come as the server lets this viewer see them (a label without Show all usernames)
    const from = message.from === meeting.participantId ? "You" : (message.from_name || label(meeting.participants.get(message.from)));
    const to = message.to ? (message.to === meeting.participantId ? "to you" : `to ${message.to_name || label(meeting.participants.get(message.to))}`) : null;
    const line = h("li", { class: message.to ? "private" : null, dataset: { messageId: String(message.id) } },
      h("strong", {}, from), to ? h("span", { class: "muted" }, ` (privately ${to})`) : null, ": ", message.text);
    const later = [...shownChat].find(([id]) => id > message.id);
    if (later) chatLog.insertBefore(line, later[1]);
    else chatLog.append(line);
    shownChat.set(message.id, line);
    chatLog.scrollTop = chatLog.scrollHeight;
  }
  meeting.addEventListener("chat", ({ detail }) => showChat(detail));
  /** What was said while this page was not there to hear it (a reload, a dropped connection): the
   * history is a convenience, so a failure to read it costs only a console line. */
  async function loadChatHistory() {
    try {
      for (const message of await meeting.chatHistory()) showChat(message);
    } catch (error) {
      console.warn("chat history:", error.message || error);
    }
  }
  chatForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = chatText.value.trim();
    if (!text) return;
    const sent = await act(chatForm.querySelector("button"), () => meeting.chat(text, { to: chatTo.value || null }).then(() => true));
    if (sent) { chatText.value = ""; chatText.focus(); }
  });

  // -- notices, refusals and the end -------------------------------------------------------------
  meeting.addEventListener("error", ({ detail }) => showError(detail));
  meeting.addEventListener("notice", ({ detail }) => say(detail.message));
  let admittedAt = 0;
  meeting.addEventListener("admitted", () => {
    admittedAt = Date.now();
    say(`A moderator let you in. ${whatIsOn()}`);
    loadChatHistory();
    chime(660);
    if (publish) startMedia();
  });
  meeting.addEventListener("sent-back", () => say("A moderator moved you to the waiting room: the others no longer see or hear you."));
  meeting.addEventListener("floor-changed", ({ detail }) => {
    if (detail.participant_id !== meeting.participantId || !meeting.presenterMode) return;
    say(detail.floor ? "You have the floor: you may speak. Turn your microphone on when you are ready."
      : "The floor was taken back: your microphone is off.");
  });
  meeting.addEventListener("permission-changed", ({ detail }) => {
    if (detail.participant_id === meeting.participantId) say(`A moderator ${detail.held ? "gave you" : "took away"} the ${detail.capability.replace("_", " ")} permission.`);
  });
  meeting.addEventListener("source-changed", ({ detail }) => {
    const admission = meeting.self.waiting || Date.now() - admittedAt < 3000; // admission turns sources off
    if (detail.participant_id === meeting.participantId && detail.by && !detail.on && !admission && meeting.can(CAPABILITY[detail.source])) say(`A moderator turned your ${detail.source} off.`);
  });
  meeting.addEventListener("reconnecting", () => {
    reconnecting.hidden = false;
    document.body.dataset.connection = "reconnecting";
  });
  meeting.addEventListener("reconnected", ({ detail }) => {
    reconnecting.hidden = true;
    document.body.dataset.connection = "connected";
    // people who left while the connection was down (and one's own old id, if one came back anew)
    for (const key of [...tiles.keys()]) {
      const pid = key.split(":")[0];
      if (!meeting.participants.has(pid) && pid !== meeting.participantId && !isShown(meeting.room, pid)) {
        dropTile(pid, "camera");
        dropTile(pid, "screen");
      }
    }
    renderAll();
    say(detail.resumed ? "Reconnected." : "Reconnected: you joined the meeting again.");
    if (!meeting.self?.waiting) loadChatHistory();
  });
  meeting.addEventListener("closed", ({ detail }) => {
    reconnecting.hidden = true;
    if (!entered) return; // a refused join rejects join() instead
    const d = detail.disconnect;
    let message = d ? DISCONNECT[d.reason] || `Disconnected (${d.reason}).`
      : detail.reason === "gave_up" ? "The connection to the meeting was lost and could not be resumed."
        : `The connection to the meeting closed (${detail.code}).`;
    if (d && d.reason === "removed" && d.until) message += ` until ${new Date(d.until).toLocaleString()}.`;
    else if (d && d.reason === "removed") message += ".";
    for (const audio of sounds.querySelectorAll("audio")) audio.srcObject = null;
    document.body.classList.remove("in-meeting");
    stage.stop();
    document.removeEventListener("keydown", shortcut);
    onEnd(message, d ? d.reason : null);
  });

  /** "Your microphone is off and your camera is off: …", as the server has them now. */
  function whatIsOn() {
    const on = meeting.self ? meeting.self.sources_on : [];
    const state = (source) => `your ${source} is ${on.includes(source) ? "on" : "off"}`;
    const text = `${state("microphone")} and ${state("camera")}`;
    const anyOff = !on.includes("microphone") || !on.includes("camera");
    return text[0].toUpperCase() + text.slice(1) + (anyOff ? ": turn them on with the buttons at the bottom." : ".");
  }

  let mediaStarted = false;
  let resumedSwitches = null; // after a reload that resumed: the sources that were on stay on, the others off
  async function startMedia() {
    if (mediaStarted) return;
    mediaStarted = true;
    // the frames that came with `joined` (the subscribe offer of the others' media) are handled first,
    // so that their answer goes out before our publish offers (lib/media.js)
    await new Promise((resolve) => setTimeout(resolve, 0));
    for (const source of ["microphone", "camera"]) {
      const chosen = start && start[source];
      if (!meeting.can(CAPABILITY[source])) {
        chosen?.track?.stop();
        continue;
      }
      const on = resumedSwitches ? resumedSwitches.includes(source) : chosen ? chosen.on : true;
      try {
        await meeting.publish(source, { on, track: chosen?.track || null });
      } catch (error) {
        showError(error instanceof MeetingError ? error : new MeetingError("media", String(error.message || error)));
      }
    }
    renderButtons();
  }

  let entered = false;
  try {
    const joined = await joining;
    // a reload that resumed keeps what was on; a second tab that took the participant over (after its own
    // pre-join check) turns on what that check chose
    if (joined.resumed && meeting.resumeSent) resumedSwitches = joined.you.sources_on;
  } catch (error) {
    fill(root);
    stage.stop();
    document.removeEventListener("keydown", shortcut);
    document.body.classList.remove("in-meeting");
    throw error;
  }
  entered = true;
  document.body.dataset.connection = "connected";
  renderAll();
  if (!meeting.self?.waiting) loadChatHistory();
  // also in the waiting room: nothing is forwarded there, except to a moderator who visits
  if (publish) await startMedia();
  return meeting;
}
