// Recording: the indicator everyone sees while the meeting is recorded (the server tells everyone, the
// waiting room included, by `recording-changed`; `joined` and `admitted` carry the state for late
// joiners), and the record button for those who hold the right (the organizer and moderators: the
// server refuses everyone else with `role_too_low`).

import { h } from "../lib/dom.js";
import { moderates } from "../lib/room-state.js";

/** Whether the meeting is recorded after `frame` (`joined`, `admitted`, `recording-changed`); frames
 * that do not say keep `recording`. */
export function recordingAfter(recording, frame) {
  if (!frame || typeof frame.recording !== "boolean") return recording;
  if (["joined", "admitted", "recording-changed"].includes(frame.type)) return frame.recording;
  return recording;
}

/** The record button's label and pressed state for `recording`. */
export function recordButton(recording) {
  return recording ? { label: "Stop recording", pressed: "true" } : { label: "Record", pressed: "false" };
}

/** Add the indicator and the button to `container`; they follow `meeting`'s frames. */
export function mountRecording(meeting, container) {
  let recording = false;
  let busy = false;
  let seen = null; // the last `joined` read (a resume brings a new one)
  const indicator = h("p", { id: "recording-indicator", class: "recording-indicator", role: "status",
    "aria-live": "polite", hidden: true }, h("span", { class: "dot", "aria-hidden": "true" }), "Recording");
  const button = h("button", { type: "button", id: "record-button", class: "record-button", hidden: true,
    "aria-pressed": "false", onclick: toggle }, "Record");
  const bar = h("div", { class: "recording-bar" }, indicator, button);
  container.append(bar);

  function render() {
    indicator.hidden = !recording;
    const { label, pressed } = recordButton(recording);
    button.textContent = label;
    button.setAttribute("aria-pressed", pressed);
    button.hidden = !(meeting.room && moderates(meeting.room));
    button.disabled = busy;
  }

  async function toggle() {
    busy = true;
    render();
    try {
      await meeting.moderate(recording ? "stop_recording" : "start_recording");
    } catch (error) {
      meeting.dispatchEvent(new CustomEvent("error", { detail: error }));
    } finally {
      busy = false;
      render();
    }
  }

  const follow = ({ detail }) => {
    recording = recordingAfter(recording, detail);
    render();
  };
  for (const type of ["recording-changed", "admitted", "reconnected"]) meeting.addEventListener(type, follow);
  meeting.addEventListener("participants", () => {
    if (meeting.joined && meeting.joined !== seen) {
      seen = meeting.joined;
      recording = recordingAfter(recording, seen);
    }
    render();
  });
  render();
  return { element: bar, isRecording: () => recording };
}
