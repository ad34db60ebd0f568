// API keys: issue one acting as a user profile (its secret is shown once), list, revoke.

import { act, field, fill, formValues, formatTime, h } from "../lib/dom.js";

export async function render(root, { podium }) {
  const body = h("tbody");
  const users = await podium.all("/users").catch(() => []);
  const userName = Object.fromEntries(users.map((u) => [u.id, `${u.name} <${u.email}>`]));

  async function refresh() {
    const keys = await podium.all("/api-keys");
    fill(body, keys.map((key) => h("tr", { dataset: { keyId: key.id } },
      h("th", { scope: "row" }, key.name),
      h("td", {}, userName[key.user_id] || key.user_id),
      h("td", {}, formatTime(key.created_at)),
      h("td", {}, key.last_used_at ? formatTime(key.last_used_at) : "never"),
      h("td", {}, key.revoked_at ? "revoked " + formatTime(key.revoked_at) : "active"),
      h("td", {}, key.revoked_at ? null : h("button", { type: "button", class: "danger", "aria-label": "Revoke " + key.name,
        onclick: async (event) => {
          if (!confirm(`Revoke the API key ${key.name}? Programs using it stop working.`)) return;
          if (await act(event.target, () => podium.delete("/api-keys/" + key.id).then(() => true), `${key.name} revoked.`)) {
            await refresh();
          }
        } }, "Revoke")))));
  }

  const form = h("form", { class: "stack", "aria-labelledby": "new-key-title" },
    h("h3", { id: "new-key-title" }, "Issue an API key"),
    h("label", {}, "Name", h("input", { type: "text", name: "name", required: true, maxlength: 200 })),
    field("Acts as", h("select", { name: "user_id", required: true },
      users.filter((u) => !u.pending).map((u) => h("option", { value: u.id }, `${u.name} <${u.email}>`)))),
    h("button", { type: "submit", class: "primary" }, "Issue key"));
  const result = h("div", { "aria-live": "polite" });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const created = await act(form.querySelector("button"), () => podium.post("/api-keys", formValues(form)),
      (r) => `API key ${r.key.name} issued.`);
    if (created) {
      form.reset();
      fill(result, h("div", { class: "panel", role: "group", "aria-label": "New API key" },
        h("h3", {}, "Secret of " + created.key.name),
        h("p", { class: "secret", id: "api-key-secret", tabindex: "0" }, created.secret),
        h("p", { class: "muted" }, "Shown once: copy it now. Send it as ", h("code", {}, "Authorization: Bearer <secret>"), ".")));
      await refresh();
    }
  });

  fill(root,
    h("p", { class: "muted" }, "A key acts as its user profile, with that profile's permissions as they are now."),
    h("table", { id: "api-keys" },
      h("thead", {}, h("tr", {}, ["Name", "Acts as", "Created", "Last used", "Status", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
      body),
    form, result);
  await refresh();
}
