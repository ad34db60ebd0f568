// The participant's side of settings requests and remote control (docs/signaling.md): a prompt for
// each request, nothing shared or applied without "Allow"; while a moderator controls the shared screen,
// a banner with "Stop" (the participant ends it at any moment) and a remote pointer over the page.
//
// A browser page cannot move the real pointer or type into other programs. Each relayed event is
// re-dispatched on `window` as a "podium:remote-input" CustomEvent (detail: the `control-input` frame);
// a native helper the person runs acts on the same stream (`/signaling/v1/remote-input`, with the
// `helper_token` of `control-started`, shown here for the person to hand to their helper).

import { h } from "../lib/dom.js";
import { personOf } from "../lib/room-state.js";
import { captureOf, constraintsOf, describeProposal, devicesOf, withBitrate } from "../lib/capture-report.js";

/** Mount the prompts of `meeting` in `host` (the stage); `label(p)` names a person. */
export function mountConsentPrompts(meeting, host, label) {
  const prompts = h("div", { class: "consent-prompts", id: "consent-prompts" });
  const pointer = h("div", { class: "remote-pointer", id: "remote-pointer", hidden: true, "aria-hidden": "true" });
  const banner = h("div", { class: "banner control-banner", id: "control-banner", role: "status", hidden: true });
  host.append(prompts, banner, pointer);
  const who = (pid) => label(personOf(meeting.room, pid)) || "A moderator";
  const request = (frame) => meeting.signaling.request(frame);
  let session = null; // {id, controller, token}

  function prompt(id, text, allowText, onAnswer) {
    const done = (allow) => { dialog.remove(); onAnswer(allow).catch((error) => { banner.hidden = false; banner.textContent = error.message || String(error); }); };
    const dialog = h("div", { class: "consent", id, role: "alertdialog", "aria-label": text, "aria-modal": "false" },
      h("p", {}, text),
      h("div", { class: "consent-actions" },
        h("button", { type: "button", class: "primary", onclick: () => done(true) }, allowText),
        h("button", { type: "button", onclick: () => done(false) }, "Decline")));
    prompts.append(dialog);
    dialog.querySelector("button").focus();
  }

  // -- settings ------------------------------------------------------------------------------------

  async function report() {
    const infos = navigator.mediaDevices ? await navigator.mediaDevices.enumerateDevices() : [];
    const capture = [];
    for (const [source, local] of meeting.local) {
      if (!local.track || !["microphone", "camera", "screen"].includes(source)) continue;
      const sender = local.transceiver && local.transceiver.sender;
      capture.push(captureOf(source, { settings: local.track.getSettings(), label: local.track.label, on: Boolean(local.on),
        parameters: sender ? sender.getParameters() : null, measuredBitrate: await measured(sender) }));
    }
    return { devices: devicesOf(infos), capture, user_agent: navigator.userAgent.slice(0, 200) };
  }

  async function measured(sender) {
    if (!sender) return null;
    for (const row of (await sender.getStats()).values()) if (row.type === "outbound-rtp" && row.targetBitrate) return row.targetBitrate;
    return null;
  }

  async function apply(proposal) {
    const local = meeting.local.get(proposal.source || "camera");
    if (!local || !local.track) return false;
    await local.track.applyConstraints(constraintsOf(proposal));
    const sender = local.transceiver && local.transceiver.sender;
    if (sender && proposal.bitrate) await sender.setParameters(withBitrate(sender.getParameters(), proposal));
    return true;
  }

  meeting.addEventListener("settings-requested", ({ detail }) => {
    const { request_id: rid, moderator_id: moderator, propose } = detail;
    const text = propose
      ? `${who(moderator)} proposes to change your ${describeProposal(propose)} and asks to see your devices and capture settings.`
      : `${who(moderator)} asks to see your devices and capture settings (resolution, frame rate, bitrate).`;
    prompt(`settings-consent-${rid}`, text, propose ? "Apply and share" : "Share my settings", async (allow) => {
      if (!allow) return request({ type: "settings-answer", request_id: rid, allow: false });
      const applied = propose ? await apply(propose).catch(() => false) : false;
      return request({ type: "settings-answer", request_id: rid, allow: true, report: await report(), applied });
    });
  });

  // -- remote control ------------------------------------------------------------------------------

  meeting.addEventListener("control-requested", ({ detail }) => {
    const { session_id: sid, moderator_id: moderator } = detail;
    prompt(`control-consent-${sid}`, `${who(moderator)} asks to control your shared screen. You can stop it at any moment.`,
      "Allow control", (allow) => request({ type: "control-answer", session_id: sid, allow }));
  });

  meeting.addEventListener("control-started", ({ detail }) => {
    if (detail.target_id !== meeting.participantId) return;
    session = { id: detail.session_id, controller: detail.controller_id, token: detail.helper_token };
    const stop = h("button", { type: "button", id: "control-stop", class: "danger",
      onclick: () => request({ type: "control-end", session_id: session.id }).catch(() => {}) }, "Stop remote control");
    banner.replaceChildren(h("span", {}, `${who(session.controller)} controls your shared screen.`), stop);
    banner.dataset.helperToken = session.token;
    banner.hidden = false;
  });

  meeting.addEventListener("control-input", ({ detail }) => {
    if (!session || detail.session_id !== session.id) return;
    const { event } = detail;
    if (event.x !== undefined && event.y !== undefined) {
      // over one's own screen tile when it is shown, else over the stage
      const tile = document.querySelector(`figure[data-participant-id="${meeting.participantId}"][data-source="screen"] video`) || host;
      const box = tile.getBoundingClientRect(), base = host.getBoundingClientRect();
      pointer.style.left = `${box.left - base.left + event.x * box.width}px`;
      pointer.style.top = `${box.top - base.top + event.y * box.height}px`;
      pointer.hidden = false;
      pointer.dataset.kind = event.kind;
    }
    pointer.dataset.seq = String(detail.seq);
    window.dispatchEvent(new CustomEvent("podium:remote-input", { detail }));
  });

  function ended({ detail }) {
    if (!session || detail.session_id !== session.id) return;
    session = null;
    pointer.hidden = true;
    banner.hidden = true;
    delete banner.dataset.helperToken;
  }
  meeting.addEventListener("control-ended", ended);
  meeting.addEventListener("closed", () => ended({ detail: { session_id: session && session.id } }));
}
