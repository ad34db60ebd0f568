// The moderator's side of settings requests and remote control (docs/signaling.md): pick a participant,
// ask for their settings (optionally proposing a lower resolution), or ask to control their shared
// screen; answers show here, and nobody but the asking moderator receives them. While control runs, the
// moderator's pointer and keys over that person's screen tile are sent as `control-event`s (pointer
// moves coalesced to at most 20 a second, under the server's 30).

import { h } from "../lib/dom.js";
import { personOf } from "../lib/room-state.js";

const MOVE_INTERVAL_MS = 50;
const LOWER = { source: "camera", width: 640, height: 360, frame_rate: 15 };

/** Mount the moderator's requests of `meeting` in `host` (the stage's tool bar); `label(p)` names a person. */
export function mountModeratorRequests(meeting, host, label) {
  const target = h("select", { id: "request-target", "aria-label": "Participant to ask", onchange: () => refresh() });
  // the `whiteboard` permission of the chosen participant, revoked and granted live (as chat)
  const boardSwitch = h("button", { type: "button", id: "whiteboard-permission", onclick: () => {
    const p = personOf(meeting.room, target.value);
    const held = Boolean(p && (p.capabilities || []).includes("whiteboard"));
    meeting.moderate(held ? "revoke_permission" : "grant_permission", { target: target.value, capability: "whiteboard" })
      .catch((error) => line(error.message || String(error)));
  } });
  const out = h("div", { class: "request-results", id: "request-results", role: "log", "aria-live": "polite" });
  const ask = (frame) => meeting.signaling.request(frame).catch((error) => line(error.message || String(error)));
  const menu = h("details", { class: "stage-menu", id: "participant-requests", hidden: true },
    h("summary", {}, "Ask a participant"),
    h("div", { class: "stack" }, target,
      h("button", { type: "button", id: "ask-settings", onclick: () => ask({ type: "settings-request", target: target.value }) },
        "Ask for their settings"),
      h("button", { type: "button", id: "propose-lower",
        onclick: () => ask({ type: "settings-request", target: target.value, propose: LOWER }) }, "Propose 640×360 at 15 fps"),
      h("button", { type: "button", id: "ask-control", onclick: () => ask({ type: "control-request", target: target.value }) },
        "Ask to control their screen"),
      boardSwitch,
      out));
  const controlling = h("div", { class: "banner control-banner", id: "controlling-banner", role: "status", hidden: true });
  host.append(menu);
  host.parentElement?.append(controlling);
  const who = (pid) => label(personOf(meeting.room, pid)) || "The participant";
  const line = (text) => out.prepend(h("p", {}, text));

  function refresh() {
    menu.hidden = !meeting.moderates;
    const chosen = target.value;
    const others = [...meeting.participants.values()].filter((p) => p.id !== meeting.participantId);
    target.replaceChildren(...others.map((p) => h("option", { value: p.id, selected: p.id === chosen }, label(p))));
    const p = personOf(meeting.room, target.value);
    const held = Boolean(p && (p.capabilities || []).includes("whiteboard"));
    boardSwitch.textContent = held ? "Turn their whiteboard off" : "Turn their whiteboard on";
    boardSwitch.setAttribute("aria-pressed", String(held));
    boardSwitch.disabled = !p || p.role !== "participant"; // moderators act on lower roles only
  }
  meeting.addEventListener("participants", refresh);

  meeting.addEventListener("settings-report", ({ detail }) => {
    const { report } = detail;
    const capture = report.capture.map((c) => `${c.source}: ${[c.width && `${c.width}×${c.height}`,
      c.frame_rate && `${c.frame_rate} fps`, c.bitrate && `${Math.round(c.bitrate / 1000)} kbit/s`,
      c.label && `(${c.label})`, c.on === false && "off"].filter(Boolean).join(" ")}`).join("; ");
    const devices = report.devices.map((d) => d.label || d.kind).join(", ");
    line(`${who(detail.participant_id)}${detail.applied ? " applied the change and" : ""} shared: ${capture || "nothing captured"}. Devices: ${devices || "none"}.`);
    out.dataset.reports = String(Number(out.dataset.reports || 0) + 1);
  });
  meeting.addEventListener("settings-declined", ({ detail }) => line(`${who(detail.participant_id)} declined to share their settings.`));
  meeting.addEventListener("control-declined", ({ detail }) => line(`${who(detail.participant_id)} declined remote control.`));

  // -- controlling ---------------------------------------------------------------------------------
  let session = null; // {id, target, tile, detach}

  meeting.addEventListener("control-started", ({ detail }) => {
    if (detail.controller_id !== meeting.participantId) return;
    const tile = document.querySelector(`figure[data-participant-id="${detail.target_id}"][data-source="screen"]`);
    session = { id: detail.session_id, target: detail.target_id, detach: tile ? capture(tile, detail.session_id) : () => {} };
    const stop = h("button", { type: "button", id: "control-release", onclick: () => ask({ type: "control-end", session_id: detail.session_id }) },
      "Stop controlling");
    controlling.replaceChildren(h("span", {}, `You control the screen of ${who(detail.target_id)}: point and type over it.`), stop);
    controlling.hidden = false;
    line(`${who(detail.target_id)} allowed remote control.`);
  });

  meeting.addEventListener("control-ended", ({ detail }) => {
    if (!session || detail.session_id !== session.id) return;
    session.detach();
    line(`Remote control of ${who(session.target)} ended (${detail.by === session.target ? "by them" : detail.reason}).`);
    session = null;
    controlling.hidden = true;
  });

  /** Send pointer and key events over `tile` as fractions of its video's displayed area. */
  function capture(tile, sid) {
    const video = tile.querySelector("video");
    tile.tabIndex = 0;
    tile.dataset.controlled = "true";
    let lastMove = 0;
    const send = (event) => meeting.signaling.request({ type: "control-event", session_id: sid, event }).catch(() => {});
    const at = (event) => {
      const box = video.getBoundingClientRect();
      const x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
      const y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
      return { x: Math.round(x * 10000) / 10000, y: Math.round(y * 10000) / 10000 };
    };
    const modifiers = (e) => ["alt", "ctrl", "meta", "shift"].filter((m) => e[`${m}Key`]);
    const handlers = {
      // moves may be lost or late (datagrams over WebTransport); presses, wheel and keys stay ordered
      pointermove: (e) => { const now = performance.now(); if (now - lastMove >= MOVE_INTERVAL_MS) { lastMove = now; meeting.sendUnordered({ type: "control-event", session_id: sid, event: { kind: "pointermove", ...at(e) } }); } },
      pointerdown: (e) => { tile.focus(); send({ kind: "pointerdown", ...at(e), button: e.button }); },
      pointerup: (e) => send({ kind: "pointerup", ...at(e), button: e.button }),
      wheel: (e) => { e.preventDefault(); send({ kind: "wheel", ...at(e), dx: e.deltaX, dy: e.deltaY }); },
      keydown: (e) => { e.preventDefault(); send({ kind: "keydown", key: e.key.slice(0, 32), code: e.code.slice(0, 32), modifiers: modifiers(e) }); },
      keyup: (e) => { e.preventDefault(); send({ kind: "keyup", key: e.key.slice(0, 32), code: e.code.slice(0, 32), modifiers: modifiers(e) }); },
    };
    for (const [type, handler] of Object.entries(handlers)) tile.addEventListener(type, handler, { passive: type !== "wheel" && !type.startsWith("key") });
    return () => {
      for (const [type, handler] of Object.entries(handlers)) tile.removeEventListener(type, handler);
      delete tile.dataset.controlled;
    };
  }
  refresh();
}
