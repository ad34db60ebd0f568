// The meeting's stage: one tile per person's camera (a name and avatar placeholder while the camera is off
// or no frame has arrived yet) and per screen share, laid out as a grid that fills the stage; a screen
// share (or a pinned tile) is spotlighted, sized to its own aspect ratio so that nothing of it is cropped; a
// ring marks who speaks (lib/active-speaker.js: the server's active-speaker events, else audio levels).

import { isShown, personOf } from "../lib/room-state.js";
import { h } from "../lib/dom.js";
import { ActiveSpeaker } from "../lib/active-speaker.js";
import { mountStageTools } from "./stage-tools.js";

/** Up to two letters for an avatar: "Bob Builder" → "BB", "Participant 3" → "P3". */
export function initials(name) {
  const words = String(name || "").replace(/\(you\)$/, "").trim().split(/\s+/).filter(Boolean);
  if (!words.length) return "?";
  return (words[0][0] + (words.length > 1 ? words[words.length - 1][0] : "")).toUpperCase();
}

/** Columns for `count` tiles on a stage `width` pixels wide: roughly square, fewer on a phone. */
export function columnsFor(count, width) {
  if (count <= 1) return 1;
  if (width < 600) return count <= 2 ? 1 : 2;
  return count <= 4 ? 2 : count <= 9 ? 3 : 4;
}

/** The stage of `meeting`; `label(p)` names a person. */
export function createStage(meeting, label) {
  const grid = h("div", { class: "grid", id: "grid", role: "list", "aria-label": "Video" });
  const spotlight = h("div", { class: "spotlight", id: "spotlight", role: "list", "aria-label": "Screen share" });
  const element = h("div", { class: "stage", id: "stage" }, spotlight, grid);
  mountStageTools(meeting, element, label); // the whiteboard, requests to a participant, consent prompts
  const tiles = new Map(); // "<pid>:<camera|screen>" → {tile, video, name, flags, avatar, placeholderName, pin}
  let pinned = null; // key of the tile pinned to the spotlight, or null (a screen share takes it then)
  let mode = "grid"; // or "speaker": the latest other speaker takes the spotlight when nothing is pinned or shared
  let speaker = null; // pid of the latest other person heard

  function tileFor(pid, source) {
    const key = `${pid}:${source}`;
    let entry = tiles.get(key);
    if (!entry) {
      const video = h("video", { autoplay: true, playsinline: true, muted: true });
      video.muted = true;
      const avatar = h("span", { class: "avatar" });
      const placeholderName = h("span", { class: "placeholder-name" });
      const name = h("span", { class: "name" });
      const flags = h("span", { class: "flags" });
      const pin = h("button", { type: "button", class: "pin", "aria-pressed": "false", onclick: () => togglePin(key) }, "Pin");
      const full = h("button", { type: "button", class: "full", onclick: () => fullScreen(tile) }, "Full screen");
      const tile = h("figure", { class: "tile", role: "listitem", dataset: { participantId: pid, source, video: "off" } },
        video, h("div", { class: "placeholder", "aria-hidden": "true" }, avatar, placeholderName), name, flags,
        h("div", { class: "tile-tools" }, pin, full));
      entry = { tile, video, name, flags, avatar, placeholderName, pin, full, pid, source };
      // a frame arriving (or the size changing) decides whether the video or the placeholder shows
      for (const type of ["loadeddata", "resize", "emptied"]) video.addEventListener(type, () => { render(entry); fit(); });
      tiles.set(key, entry);
      grid.append(tile);
      place();
    }
    return entry;
  }

  function togglePin(key) {
    pinned = pinned === key ? null : key;
    place();
  }

  function fullScreen(tile) {
    if (document.fullscreenElement === tile) document.exitFullscreen();
    else tile.requestFullscreen().catch(() => {});
  }

  /** The pinned tile, else the first screen share, goes to the spotlight; every other tile to the grid. */
  function place() {
    if (pinned && !tiles.has(pinned)) pinned = null;
    const others = [...tiles.values()].filter((e) => e.source === "camera" && e.pid !== meeting.participantId && !e.tile.hidden);
    const pin = tiles.get(pinned);
    const chosen = (pin && shareShown(pin) ? pin : null) || [...tiles.values()].find((e) => e.source === "screen" && shareShown(e))
      || (mode === "speaker" ? tiles.get(`${speaker}:camera`) || others[0] : null);
    for (const entry of tiles.values()) {
      const home = entry === chosen ? spotlight : grid;
      if (entry.tile.parentElement !== home) {
        entry.video.style.width = entry.video.style.height = ""; // sized only while spotlighted
        home.append(entry.tile);
      }
      const isPinned = pinned === `${entry.pid}:${entry.source}`;
      entry.pin.textContent = isPinned ? "Unpin" : "Pin";
      entry.pin.setAttribute("aria-pressed", String(isPinned));
      render(entry);
    }
    layout();
  }

  function dropTile(pid, source) {
    const entry = tiles.get(`${pid}:${source}`);
    if (!entry) return;
    entry.video.srcObject = null;
    entry.tile.remove();
    tiles.delete(`${pid}:${source}`);
    place(); // another screen share, if any, takes the spotlight
  }

  function dropPerson(pid) {
    speakers.forget(pid);
    dropTile(pid, "camera");
    dropTile(pid, "screen");
  }

  /** Whether the person's camera (or screen) is on: one's own from the local track, others' from the room. */
  function sourceOn(pid, source) {
    if (pid === meeting.participantId) {
      const local = meeting.local.get(source);
      return Boolean(local && local.on && local.track && local.track.readyState === "live");
    }
    const p = personOf(meeting.room, pid);
    return Boolean(p && p.sources_on.includes(source));
  }

  /** A camera tile shows with the camera off (a placeholder); a screen share turned off (its permission
   * taken away) is not shown at all, and gives up the spotlight, until it is on again. */
  function shareShown(entry) {
    return entry.source !== "screen" || sourceOn(entry.pid, "screen");
  }

  function render(entry) {
    const { tile, video, name, flags, avatar, placeholderName, pid, source } = entry;
    const p = personOf(meeting.room, pid); // a waiting person during a visit too
    const who = label(p);
    const named = meeting.namesVisible || pid === meeting.participantId;
    tile.hidden = !isShown(meeting.room, pid) || !shareShown(entry); // a waiting person's tile shows only during a visit
    name.textContent = source === "screen" ? `Screen of ${who}` : who;
    name.hidden = !named; // without Show all usernames: only a count, in the participant list
    tile.setAttribute("aria-label", named ? name.textContent : source === "screen" ? "A screen share" : "A participant");
    avatar.textContent = named ? initials(who) : "?";
    placeholderName.textContent = named ? who : "";
    const what = source === "screen" ? `the screen of ${who}` : named ? who : "this participant";
    entry.pin.setAttribute("aria-label", `${entry.pin.textContent} ${what}`);
    entry.full.setAttribute("aria-label", `Full screen: ${what}`);
    // no frozen last frame and no black box: the placeholder until a frame arrives, and when it is turned off
    const showing = sourceOn(pid, source) && video.srcObject && video.videoWidth > 0;
    tile.dataset.video = showing ? "on" : "off";
    const microphoneOn = p ? p.sources_on.includes("microphone") : false;
    flags.textContent = source === "camera" && !microphoneOn ? "muted" : "";
    flags.hidden = !flags.textContent;
  }

  /** Create a camera tile for everyone shown (also those whose camera is off) and label every tile. */
  function sync() {
    const shown = [...meeting.participants.keys()];
    if (meeting.participantId && !shown.includes(meeting.participantId)) shown.push(meeting.participantId);
    const visiting = meeting.self && meeting.self.visiting;
    if (visiting) shown.push(visiting);
    for (const pid of shown) tileFor(pid, "camera");
    for (const entry of tiles.values()) render(entry);
    place();
  }

  function layout() {
    const visible = [...grid.children].filter((t) => !t.hidden).length;
    const spotlit = Boolean(spotlight.firstChild);
    element.classList.toggle("has-spotlight", spotlit);
    const width = element.clientWidth || window.innerWidth;
    const columns = spotlit ? 1 : columnsFor(visible, width);
    grid.style.setProperty("--columns", String(columns));
    grid.style.setProperty("--rows", String(Math.max(1, Math.ceil(visible / columns))));
    fit();
  }

  /** Size the spotlighted video to its source's aspect ratio, as large as the spotlight allows. */
  function fit() {
    const tile = spotlight.firstChild;
    if (!tile) return;
    const video = tile.querySelector("video");
    const { clientWidth: width, clientHeight: height } = spotlight;
    if (!video.videoWidth || !width || !height) return;
    const scale = Math.min(width / video.videoWidth, height / video.videoHeight);
    video.style.width = `${Math.floor(video.videoWidth * scale)}px`;
    video.style.height = `${Math.floor(video.videoHeight * scale)}px`;
  }
  new ResizeObserver(layout).observe(element);

  // -- who speaks: a ring on the camera tile, from the server's active-speaker events once they come, and
  // until then from the audio level of what is received (and of one's own microphone) -----------------
  const speakers = new ActiveSpeaker();
  meeting.addEventListener("active-speaker", ({ detail }) => {
    speakers.event(detail, performance.now());
    showSpeakers(performance.now());
  });
  async function sampleLevels() {
    if (speakers.fromServer) return; // the server says who speaks: no sampling
    const now = performance.now();
    for (const row of await meeting.receiverStats()) {
      if (row.kind === "audio") speakers.sample(row.participantId, row.audioLevel, now);
    }
    const pub = meeting.media && meeting.media.pub;
    if (pub) {
      for (const report of (await pub.getStats()).values()) {
        if (report.type === "media-source" && report.kind === "audio") speakers.sample(meeting.participantId, report.audioLevel, now);
      }
    }
    showSpeakers(now);
  }
  function showSpeakers(now) {
    const others = [...tiles.values()].filter((e) => e.source === "camera" && e.pid !== meeting.participantId).map((e) => e.pid);
    const latest = speakers.latest(others);
    if (latest && latest !== speaker) {
      speaker = latest;
      if (mode === "speaker") place();
    }
    for (const entry of tiles.values()) {
      if (entry.source !== "camera") continue;
      const speaking = speakers.speaking(entry.pid, now) && sourceOn(entry.pid, "microphone");
      if ((entry.tile.dataset.speaking === "true") !== speaking) entry.tile.dataset.speaking = String(speaking);
    }
  }
  const levels = setInterval(() => sampleLevels().catch(() => {}), 250);
  const stop = () => clearInterval(levels);

  /** "grid" or "speaker" (the latest other speaker spotlighted). */
  function setLayout(next) {
    mode = next;
    element.dataset.layout = mode;
    place();
  }

  return { element, tiles, tileFor, dropTile, dropPerson, sync, render, stop, setLayout };
}
