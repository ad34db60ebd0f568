// join.html#invitation=<secret>: a guest's way in. The link is redeemed for a guest token bound to this
// browser; the guest then joins (usually into the waiting room) and is let in by a moderator.

import { PodiumClient } from "../lib/podium.js";
import { MeetingError } from "../lib/meeting.js";
import { runMeeting } from "./meeting-ui.js";
import { say, showError } from "../lib/dom.js";
import { preJoin } from "./prejoin.js";

const RETRY_MS = 5000;
const MAX_NAME = 64;

/** Why `name` (trimmed) cannot be a guest's name, or null: the server's rule (1 to 64 characters, no
 * control characters), checked here first so the guest gets the reason next to the field. */
export function nameProblem(name) {
  if (!name) return "Enter your name.";
  if ([...name].length > MAX_NAME) return `Your name can have at most ${MAX_NAME} characters.`;
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return "Your name cannot contain control characters.";
  return null;
}

/** This browser's binding for invitations: random, created once, kept in localStorage. */
export function browserId() {
  let id = localStorage.getItem("podium.browser");
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem("podium.browser", id);
  }
  return id;
}

/** The host company's data-protection notice, shown before the guest enters (none: nothing shown). */
function showPrivacyNotice(text) {
  if (!text) return;
  document.getElementById("privacy-text").textContent = text;
  document.getElementById("privacy").hidden = false;
}

function ended(message) {
  say("");
  document.getElementById("meeting-root").hidden = true;
  document.getElementById("ended").hidden = false;
  const text = document.getElementById("ended-message");
  text.textContent = message;
  text.focus();
}

async function main() {
  const secret = new URLSearchParams(location.hash.slice(1)).get("invitation");
  if (!secret) {
    showError(new Error("This link has no invitation in it. Open the whole link you were sent."));
    return;
  }
  const api = new PodiumClient({ store: { load: () => null, save() {} } }); // no login session here
  const form = document.getElementById("guest");
  let guest;
  try {
    guest = await api.request("POST", "/invitation-redemptions", { body: { invitation: secret, browser: browserId() }, auth: false });
  } catch (error) {
    showError(error);
    return;
  }
  showPrivacyNotice(guest.privacy_notice);
  const nameInput = form.elements.name;
  nameInput.value = guest.invitee_name;
  form.hidden = false;
  const check = preJoin(document.getElementById("prejoin-devices")); // camera preview, level, devices
  let start = null;
  nameInput.focus();
  nameInput.select();
  nameInput.addEventListener("input", () => nameInput.setCustomValidity(""));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    const name = nameInput.value.trim();
    const problem = nameProblem(name);
    if (problem) {
      nameInput.setCustomValidity(problem);
      nameInput.reportValidity();
      showError(new Error(problem));
      nameInput.focus();
      return;
    }
    button.disabled = true;
    nameInput.readOnly = true;
    try {
      // the same browser may redeem its link again: this token carries the name entered
      guest = await api.request("POST", "/invitation-redemptions", { body: { invitation: secret, browser: browserId(), name }, auth: false });
    } catch (error) {
      showError(error);
      button.disabled = false;
      nameInput.readOnly = false;
      return;
    }
    start = start || check.choices();
    for (;;) {
      showError(null);
      try {
        const meeting = await runMeeting(document.getElementById("meeting-root"), {
          token: guest.guest_token, roomId: guest.room_id, onEnd: ended, start,
        });
        form.hidden = true;
        say(meeting.self && meeting.self.waiting ? "You are in the waiting room." : "You are in the meeting.");
        document.body.dataset.joined = "true";
        return;
      } catch (error) {
        if (!(error instanceof MeetingError && error.code === "meeting_not_started")) {
          showError(error);
          button.disabled = false;
          nameInput.readOnly = false;
          return;
        }
        say(`The meeting has not started yet: trying again in ${RETRY_MS / 1000} seconds.`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  });
}

main().catch(showError);
