// Invitation links for guests: personalized, single-use (bound to the first browser that opens them),
// valid in a time window, with the rights the guest gets. admin.html?room=<id>#invitations preselects a room.

import { act, field, fill, formValues, formatTime, h, say } from "../lib/dom.js";

const RIGHTS = [["microphone", "Microphone"], ["camera", "Camera"], ["screen_share", "Screen sharing"], ["chat", "Chat"], ["files", "Sharing files"]];

/** The link a guest opens: the secret stays in the fragment, which browsers never send to servers. */
export function guestLink(secret) {
  return `${location.origin}/join.html#invitation=${encodeURIComponent(secret)}`;
}

function isoOrNull(local) {
  return local ? new Date(local).toISOString() : null;
}

export async function render(root, { podium }) {
  const rooms = await podium.all("/rooms");
  const wanted = new URLSearchParams(location.search).get("room");
  const picker = h("select", { id: "invitation-room", name: "room" },
    rooms.map((r) => h("option", { value: r.id, selected: r.id === wanted }, r.name)));
  const body = h("tbody");
  const result = h("div", { "aria-live": "polite" });

  async function refresh() {
    if (!picker.value) { fill(body); return; }
    const list = await podium.get(`/rooms/${picker.value}/invitations`);
    fill(body, list.items.map((i) => h("tr", {},
      h("th", { scope: "row" }, i.invitee_name),
      h("td", {}, i.rights.join(", ") || "none"),
      h("td", {}, `${formatTime(i.not_before)} – ${formatTime(i.not_after)}`),
      h("td", {}, i.revoked ? "revoked" : i.redeemed ? "opened" : "not opened yet"),
      h("td", {}, h("code", {}, i.invitee)),
      h("td", {}, i.revoked ? null : h("button", { type: "button", class: "danger", "aria-label": "Revoke invitation of " + i.invitee_name,
        onclick: async (event) => {
          if (await act(event.target, () => podium.delete("/invitations/" + i.id).then(() => true), `Invitation of ${i.invitee_name} revoked.`)) await refresh();
        } }, "Revoke")))));
  }
  picker.addEventListener("change", () => act(picker, refresh));

  const form = h("form", { class: "stack", "aria-labelledby": "new-invitation-title" },
    h("h3", { id: "new-invitation-title" }, "Invite a guest"),
    h("label", {}, "Guest's name", h("input", { type: "text", name: "invitee_name", required: true, maxlength: 200 })),
    h("fieldset", {}, h("legend", {}, "Rights in the meeting"),
      RIGHTS.map(([value, text]) => h("label", { class: "check" },
        h("input", { type: "checkbox", name: "right_" + value, checked: value !== "screen_share" && value !== "files" }), text))),
    h("label", {}, "Valid from (optional)", h("input", { type: "datetime-local", name: "not_before" })),
    h("label", {}, "Valid until (optional; default: 24 hours)", h("input", { type: "datetime-local", name: "not_after" })),
    h("button", { type: "submit", class: "primary" }, "Create invitation link"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const body = { invitee_name: v.invitee_name, rights: RIGHTS.map(([r]) => r).filter((r) => v["right_" + r]) };
    if (v.not_before) body.not_before = isoOrNull(v.not_before);
    if (v.not_after) body.not_after = isoOrNull(v.not_after);
    const issued = await act(form.querySelector("button[type=submit]"), () => podium.post(`/rooms/${picker.value}/invitations`, body));
    if (issued) {
      form.reset();
      fill(result, h("div", { class: "panel", role: "group", "aria-label": "Invitation link for " + issued.invitee_name },
        h("h3", {}, "Link for " + issued.invitee_name),
        h("p", { class: "secret", id: "invitation-link", tabindex: "0" }, guestLink(issued.invitation)),
        h("p", { class: "muted" }, "Shown once. It works in one browser only: the first that opens it.")));
      await refresh();
      say(`Invitation for ${issued.invitee_name} created.`);
    }
  });

  fill(root,
    field("Room", picker),
    h("table", { id: "invitations" }, h("thead", {}, h("tr", {},
      ["Guest", "Rights", "Valid", "Status", "Person key", "Actions"].map((t) => h("th", { scope: "col" }, t)))), body),
    form, result);
  if (!rooms.length) fill(root, h("p", { class: "muted" }, "There is no room to invite guests to."));
  else await refresh();
}
