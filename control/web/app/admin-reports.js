// Attendance reports and the audit log, each viewable here and downloadable as CSV.

import { act, field, fill, formValues, formatTime, h, showError } from "../lib/dom.js";
import { describeError } from "../lib/podium.js";

function isoOrNull(local) {
  if (!local) return null;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? local : date.toISOString();
}

function auditQuery(form) {
  const v = formValues(form);
  return { action: v.action, since: isoOrNull(v.since), until: isoOrNull(v.until) };
}

const TARGETS = { user: "User", room: "Room", api_key: "API key", department: "Department", group_link: "Group link",
  invitation: "Invitation", add_in: "Add-in", company: "Company" };

/** "room.updated" → "Room updated", "user.permission_granted" → "User permission granted". */
export function describeAction(action) {
  const [kind, ...rest] = String(action).split(".");
  return [TARGETS[kind] || kind, ...rest.map((r) => r.replace(/_/g, " "))].join(" ");
}

function plain(value) {
  if (value === null || value === undefined || value === "") return "none";
  if (value === true) return "yes";
  if (value === false) return "no";
  if (Array.isArray(value)) return value.length ? value.map(plain).join(", ") : "none";
  if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${k.replace(/_/g, " ")} ${plain(v)}`).join(", ");
  return String(value);
}

/** The change as "chat: yes → no; name: R → S" (only what changed); a creation or deletion lists what it had. */
export function describeChange(event) {
  const before = event.before || {};
  const after = event.after || {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => k !== "id" && k !== "company_id");
  const label = (k) => k.replace(/_/g, " ");
  if (!event.before || !event.after) {
    const state = event.after || event.before;
    if (!state) return "";
    return keys.filter((k) => state[k] !== null && state[k] !== "" && !(Array.isArray(state[k]) && !state[k].length))
      .map((k) => `${label(k)}: ${plain(state[k])}`).join("; ");
  }
  return keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .map((k) => `${label(k)}: ${plain(before[k])} → ${plain(after[k])}`).join("; ");
}

function actorOf(e) {
  if (e.actor_name) return e.actor_name;
  if (e.actor_user_id) return "a deleted user";
  if (e.actor_api_key_id) return "an API key";
  return "Podium (set-up)";
}

function targetOf(e) {
  const kind = TARGETS[e.target_type] || e.target_type;
  return e.target_name ? `${kind} ${e.target_name}` : e.target_id ? `a ${kind.toLowerCase()} that no longer exists` : kind;
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
      h("td", { dataset: { label: "When" } }, formatTime(e.at)),
      h("td", { dataset: { label: "Who" } }, actorOf(e)),
      h("td", { dataset: { label: "What" } }, describeAction(e.action)),
      h("td", { dataset: { label: "On" } }, targetOf(e)),
      h("td", { class: "change", dataset: { label: "Change" } }, describeChange(e)))));
    fill(total, `${page.total} event${page.total === 1 ? "" : "s"}${page.total > page.items.length ? `, newest ${page.items.length} shown` : ""}.`);
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(form.querySelector("button[type=submit]"), refresh);
  });
  await refresh();
  return h("section", { "aria-labelledby": "audit-title" },
    h("h3", { id: "audit-title" }, "Audit log"), form, total,
    h("table", { id: "audit", class: "cards" }, h("thead", {}, h("tr", {},
      ["When", "Who", "What", "On", "Change"].map((t) => h("th", { scope: "col" }, t)))), body));
}

function describeMeeting(m) {
  return `${formatTime(m.started_at)} – ${m.ended_at ? formatTime(m.ended_at) : "running"}`;
}

async function attendanceSection(podium) {
  const rooms = await podium.all("/rooms");
  const meetingSelect = h("select", { name: "meeting", disabled: true }, h("option", { value: "" }, "(choose a room first)"));
  const form = h("form", { class: "inline", "aria-label": "Attendance report" },
    field("Room", h("select", { name: "room" }, h("option", { value: "" }, "(choose)"),
      rooms.map((r) => h("option", { value: r.id }, r.name)))),
    field("Meeting", meetingSelect),
    h("button", { type: "submit" }, "Show report"),
    h("button", { type: "button", id: "attendance-csv" }, "Download CSV"));
  const out = h("div", { "aria-live": "polite" });
  let loading = null;
  /** The room's meetings, newest first (GET /rooms/{id}/meetings): the choice of reports. */
  function loadMeetings(roomId) {
    if (!roomId) {
      fill(meetingSelect, h("option", { value: "" }, "(choose a room first)"));
      meetingSelect.disabled = true;
      loading = Promise.resolve([]);
      return loading;
    }
    loading = podium.get(`/rooms/${encodeURIComponent(roomId)}/meetings`, { query: { limit: 200 } }).then((page) => {
      if (formValues(form).room !== roomId) return page.items;
      fill(meetingSelect, page.items.length ? page.items.map((m) => h("option", { value: m.id }, describeMeeting(m)))
        : h("option", { value: "" }, "(no meetings yet)"));
      meetingSelect.disabled = !page.items.length;
      return page.items;
    });
    return loading;
  }
  form.elements.room.addEventListener("change", () => {
    showError(null);
    loadMeetings(form.elements.room.value).catch(showError);
  });
  async function meetingId() {
    const v = formValues(form);
    if (!v.room) throw new Error("Choose a room, then one of its meetings.");
    const items = await (loading || loadMeetings(v.room));
    const chosen = form.elements.meeting.value || (items[0] && items[0].id);
    if (!chosen) throw new Error("This room has had no meetings yet.");
    return chosen;
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(form.querySelector("button[type=submit]"), async () => {
      const id = await meetingId();
      const report = await podium.get(`/meetings/${id}/attendance`);
      const minutes = (s) => (s / 60).toFixed(1);
      fill(out, h("p", { class: "muted" }, `Meeting ${id}: started ${formatTime(report.started_at)}${report.ended_at ? ", ended " + formatTime(report.ended_at) : ", running"}.`),
        h("table", { id: "attendance" }, h("thead", {}, h("tr", {},
          ["Person", "Role", "Present", "Minutes", "Microphone", "Camera", "Screen"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, report.people.map((p) => h("tr", {}, h("th", { scope: "row" }, p.name), h("td", {}, p.role || ""),
          h("td", {}, p.present ? "yes" : "no"), h("td", {}, minutes(p.total_seconds)), h("td", {}, minutes(p.microphone_seconds)),
          h("td", {}, minutes(p.camera_seconds)), h("td", {}, minutes(p.screen_share_seconds)))))));
    });
  });
  form.querySelector("#attendance-csv").addEventListener("click", (event) => act(event.target, async () => {
    const id = await meetingId();
    return podium.download(`/meetings/${id}/attendance`, { query: { format: "csv" } });
  }, (f) => `Downloaded ${f.name}.`));
  return h("section", { id: "attendance-section", "aria-labelledby": "attendance-title" },
    h("h3", { id: "attendance-title" }, "Attendance reports"),
    h("p", { class: "muted" }, "Joins and leaves, time present, and time with microphone, camera and screen share on."),
    form, out);
}

export async function render(root, { podium }) {
  const parts = [];
  parts.push(await attendanceSection(podium).catch((error) => h("p", { class: "error" }, "Attendance: " + describeError(error))));
  parts.push(await auditSection(podium).catch((error) => h("p", { class: "error" }, "Audit log: " + describeError(error))));
  fill(root, parts);
}
