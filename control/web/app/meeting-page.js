// meeting.html?room=<id>: a registered user's meeting (opens it if none runs and the user has access).

import { podium, startPage } from "./shell.js";
import { runMeeting } from "./meeting-ui.js";
import { offeredWebTransport } from "../lib/webtransport.js";
import { say, showError } from "../lib/dom.js";
import { ResumeTokens } from "../lib/reconnect.js";
import { preJoin } from "./prejoin.js";

/** The pre-join check (camera preview, microphone level, devices, join with them on or off) with the
 * company's data-protection notice, if it has one; resolves to the choices once the user joins. */
function readyToJoin(privacyNotice) {
  const form = document.getElementById("prejoin");
  if (privacyNotice) {
    document.getElementById("privacy-text").textContent = privacyNotice;
    document.getElementById("privacy").hidden = false;
  }
  const check = preJoin(document.getElementById("prejoin-devices"));
  form.hidden = false;
  form.querySelector("button[type=submit]").focus();
  return new Promise((resolve) => form.addEventListener("submit", (event) => {
    event.preventDefault();
    form.hidden = true;
    resolve(check.choices());
  }, { once: true }));
}

async function main() {
  const me = await startPage();
  const roomId = new URLSearchParams(location.search).get("room");
  if (!roomId) {
    showError(new Error("No room given: open a meeting from the room list."));
    return;
  }
  document.getElementById("join-here").addEventListener("click", () => location.reload());
  // asked at once, side by side: joining then waits for none of them
  const offered = offeredWebTransport();
  const company = podium.get("/company");
  company.catch(() => {}); // a failure shows where it is awaited
  let room;
  try {
    room = await podium.get("/rooms/" + encodeURIComponent(roomId));
  } catch (error) {
    if (error.status !== 404) throw error;
    throw new Error("This meeting link does not lead to a room you can enter: the room may have been deleted, or the link may be incomplete. Open the meeting from your rooms.");
  }
  document.getElementById("title").textContent = room.name;
  document.title = `${room.name} · Podium`;
  // a reload that resumes goes straight back in, with what was on before
  const resuming = Boolean(new ResumeTokens().load(roomId));
  const start = resuming ? null : await readyToJoin((await company).privacy_notice);
  say("Joining…");
  const root = document.getElementById("meeting-root");
  const meeting = await runMeeting(root, {
    token: () => podium.accessToken(), // refreshed when it is about to expire: a resume much later needs a valid one
    roomId, podium, start, offered,
    onEnd(message, reason) {
      say(""); // "You are in the meeting." no more
      root.hidden = true;
      document.getElementById("ended").hidden = false;
      const text = document.getElementById("ended-message");
      text.textContent = message;
      // the meeting went on in another tab: this one may take it back; one who left may come back
      const again = document.getElementById("join-here");
      again.hidden = !["joined_elsewhere", "replaced", "left"].includes(reason);
      again.textContent = reason === "left" ? "Join again" : "Use the meeting in this tab";
      text.focus();
    },
  }).catch((error) => {
    say(""); // "Joining…" no more: the refusal (#error) says what happened
    throw error;
  });
  say(meeting.self && meeting.self.waiting ? "You are in the waiting room." : "You are in the meeting.");
  document.body.dataset.joined = "true";
}

main().catch(showError);
