// meeting.html?room=<id>: a registered user's meeting (opens it if none runs and the user has access).

import { podium, startPage } from "./shell.js";
import { runMeeting } from "./meeting-ui.js";
import { say, showError } from "../lib/dom.js";

/** The company's data-protection notice, shown before the user enters; resolves once they choose to
 * join (at once when the company has none). */
function privacyNoticeRead(text) {
  if (!text) return Promise.resolve();
  const form = document.getElementById("privacy");
  document.getElementById("privacy-text").textContent = text;
  form.hidden = false;
  form.querySelector("button").focus();
  return new Promise((resolve) => form.addEventListener("submit", (event) => {
    event.preventDefault();
    form.hidden = true;
    resolve();
  }, { once: true }));
}

async function main() {
  const me = await startPage();
  const roomId = new URLSearchParams(location.search).get("room");
  if (!roomId) {
    showError(new Error("No room given: open a meeting from the room list."));
    return;
  }
  const room = await podium.get("/rooms/" + encodeURIComponent(roomId));
  document.getElementById("title").textContent = room.name;
  document.title = `${room.name} · Podium`;
  await privacyNoticeRead((await podium.get("/company")).privacy_notice);
  say("Joining…");
  const root = document.getElementById("meeting-root");
  const meeting = await runMeeting(root, {
    token: () => podium.accessToken(), // refreshed when it is about to expire: a resume much later needs a valid one
    roomId, podium,
    onEnd(message) {
      root.hidden = true;
      document.getElementById("ended").hidden = false;
      const text = document.getElementById("ended-message");
      text.textContent = message;
      text.focus();
    },
  });
  say(meeting.self && meeting.self.waiting ? "You are in the waiting room." : "You are in the meeting.");
  document.body.dataset.joined = "true";
}

main().catch(showError);
