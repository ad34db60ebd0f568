// Attendance reports and the audit log, each viewable here and downloadable as CSV.

import { act, fill, formatTime, formValues, h } from "../lib/dom.js";

function isoOrNull(local) {
  if (!local) return null;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? local : date.toISOString();
}

function auditQuery(form) {
  const v = formValues(form);
  return { action: v.action, since: isoOrNull(v.since), until: isoOrNull(v.until) };
}

function describeChange(event) {
  const show = (value) => (value ? JSON.stringify(value) : "");
  return [event.before && "before: " + show(event.before), event.after && "after: " + show(event.after)].filter(Boolean).join("; ");
}

async function auditSection(podium) {
  const body = h("tbody");
  const form = h("form", { class: "inline", "aria-label": "Filter the audit log" },
    h("label", {}, "Action", h("input", { type: "text", name: "action", placeholder: "e.g. user.invited", pattern: "[a-z_.]+", maxlength: 64 })),
    h("label", {}, "Since", h("input", { type: "datetime-local", name: "since" })),
    h("label", {}, "Until", h("input", { type: "datetime-local", name: "until" })),
    h("button", { type: "submit" }, "Show"),
    h("button", { type: "button", id: "audit-download", onclick: (event) => act(event.target,
      () => podium.download("/audit-events.csv", { query: auditQuery(form) }), (f) => `Downloaded ${f.name}.`) },
    "Download CSV"));
  const total = h("p", { class: "muted", "aria-live": "polite" });
  async function refresh() {
    const page = await podium.get("/audit-events", { query: { ...auditQuery(form), limit: 100 } });
    fill(body, page.items.map((e) => h("tr", {},
      h("td", {}, formatTime(e.at)), h("td", {}, e.action), h("td", {}, `${e.target_type} ${e.target_id || ""}`),
      h("td", {}, e.actor_user_id || (e.actor_api_key_id ? "API key " + e.actor_api_key_id : "—")),
      h("td", { class: "muted" }, describeChange(e)))));
    fill(total, `${page.total} event${page.total === 1 ? "" : "s"}${page.total > page.items.length ? `, newest ${page.items.length} shown` : ""}.`);
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(form.querySelector("button[type=submit]"), refresh);
  });
  await refresh();
  return h("section", { "aria-labelledby": "audit-title" },
    h("h3", { id: "audit-title" }, "Audit log"), form, total,
    h("table", { id: "audit" }, h("thead", {}, h("tr", {},
      ["When", "Action", "Target", "Actor", "Change"].map((t) => h("th", { scope: "col" }, t)))), body));
}

export async function render(root, { podium }) {
  const parts = [];
  parts.push(await auditSection(podium).catch((error) => h("p", { class: "error" }, "Audit log: " + error.message)));
  fill(root, parts);
}
