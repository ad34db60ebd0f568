// Departments (a tree) and rooms: create, rename, move, delete; room features and access rights.

import { describeError } from "../lib/podium.js";
import { act, field, fill, formValues, h, say, showError } from "../lib/dom.js";

const ROLES = ["organizer", "moderator", "participant"];

function departmentOptions(departments, selected, { none = "No department" } = {}) {
  const byParent = {};
  for (const d of departments) (byParent[d.parent_id || ""] ||= []).push(d);
  const options = [h("option", { value: "", selected: !selected }, none)];
  const walk = (parent, depth) => {
    for (const d of (byParent[parent] || []).sort((a, b) => a.name.localeCompare(b.name))) {
      options.push(h("option", { value: d.id, selected: d.id === selected }, "\u2003".repeat(depth) + d.name));
      walk(d.id, depth + 1);
    }
  };
  walk("", 0);
  return options;
}

function roomFields(room, departments, maxParticipants) {
  const check = (name, label, value) => h("label", { class: "check" },
    h("input", { type: "checkbox", name, checked: value }), label);
  return [
    h("label", {}, "Name", h("input", { type: "text", name: "name", required: true, maxlength: 200, value: room ? room.name : "" })),
    field("Department", h("select", { name: "department_id" }, departmentOptions(departments, room && room.department_id))),
    check("hidden", "Hidden (absent from lists for people without access)", room ? room.hidden : false),
    check("waiting_room", "Waiting room", room ? room.waiting_room : false),
    check("chat", "Chat", room ? room.chat : true),
    check("screen_share", "Participants may share their screen", room ? room.screen_share : true),
    check("participants_may_start", "Participants may start the meeting (otherwise they wait for a moderator)",
      room ? room.participants_may_start : false),
    check("participants_add_materials", "Participants may add conference materials",
      room ? room.participants_add_materials : false),
    h("label", {}, "Maximum participants", h("input", { type: "number", name: "max_participants", min: 1,
      max: maxParticipants || 100000, value: room ? room.max_participants : "" })),
  ];
}

function roomBody(form) {
  const v = formValues(form);
  const body = { name: v.name, department_id: v.department_id, hidden: v.hidden, waiting_room: v.waiting_room,
    chat: v.chat, screen_share: v.screen_share, participants_may_start: v.participants_may_start,
    participants_add_materials: v.participants_add_materials };
  if (v.max_participants !== null) body.max_participants = Number(v.max_participants);
  return body;
}

async function accessPanel(podium, room, users) {
  const list = h("tbody");
  async function refresh() {
    const rights = await podium.all(`/rooms/${room.id}/access`);
    fill(list, rights.map((r) => h("tr", {},
      h("th", { scope: "row" }, `${r.name} <${r.email}>`), h("td", {}, r.role),
      h("td", {}, h("button", { type: "button", "aria-label": `Remove access of ${r.name}`, onclick: async (event) => {
        if (await act(event.target, () => podium.delete(`/rooms/${room.id}/access/${r.user_id}`).then(() => true),
          `Access of ${r.name} removed.`)) await refresh();
      } }, "Remove")))));
  }
  const add = h("form", { class: "inline", "aria-label": "Give access to " + room.name },
    field("User", h("select", { name: "user_id", required: true },
      users.map((u) => h("option", { value: u.id }, `${u.name} <${u.email}>`)))),
    field("Role", h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r, selected: r === "participant" }, r)))),
    h("button", { type: "submit" }, "Give access"));
  add.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { user_id: userId, role } = formValues(add);
    if (await act(add.querySelector("button"), () => podium.put(`/rooms/${room.id}/access/${userId}`, { role }).then(() => true),
      "Access given.")) await refresh();
  });
  await refresh();
  return h("div", {}, h("h4", {}, "Access rights"),
    h("table", {}, h("thead", {}, h("tr", {}, ["User", "Default role", "Actions"].map((t) => h("th", { scope: "col" }, t)))), list),
    add);
}

export async function render(root, { podium }) {
  const company = await podium.get("/company").catch(() => null);
  const maxParticipants = company && company.quotas ? company.quotas.max_participants : null;
  let departments = [];
  const users = await podium.all("/users").catch(() => []);
  const departmentList = h("ul", { class: "tree", id: "departments" });
  const roomList = h("tbody");
  const detail = h("div");
  const deptForm = h("form", { class: "inline", "aria-labelledby": "new-dept-title" },
    h("label", {}, "Name", h("input", { type: "text", name: "name", required: true, maxlength: 200 })),
    field("Inside", h("select", { name: "parent_id" })),
    h("button", { type: "submit" }, "Create department"));
  const roomForm = h("form", { class: "stack", "aria-labelledby": "new-room-title" });

  async function refresh() {
    departments = (await podium.get("/departments")).items;
    const rooms = await podium.all("/rooms");
    const name = Object.fromEntries(departments.map((d) => [d.id, d.name]));
    const byParent = {};
    for (const d of departments) (byParent[d.parent_id || ""] ||= []).push(d);
    const branch = (parent) => (byParent[parent] || []).map((d) => h("li", {},
      h("span", {}, d.name), " ",
      h("button", { type: "button", "aria-label": "Rename " + d.name, onclick: async (event) => {
        const next = prompt("New name of " + d.name, d.name);
        if (next && next.trim() && await act(event.target, () => podium.patch("/departments/" + d.id, { name: next.trim() }),
          "Department renamed.")) await refresh();
      } }, "Rename"), " ",
      h("button", { type: "button", class: "danger", "aria-label": "Delete " + d.name, onclick: async (event) => {
        if (await act(event.target, () => podium.delete("/departments/" + d.id).then(() => true), `${d.name} deleted.`)) await refresh();
      } }, "Delete"),
      byParent[d.id] ? h("ul", { role: "group" }, branch(d.id)) : null));
    fill(departmentList, branch(""));
    if (!departments.length) fill(departmentList, h("li", { class: "muted" }, "No departments yet."));
    fill(deptForm.elements.parent_id, departmentOptions(departments, null, { none: "(top level)" }));
    fill(roomForm, h("h3", { id: "new-room-title" }, "Create a room"), roomFields(null, departments, maxParticipants),
      h("button", { type: "submit", class: "primary" }, "Create room"));
    fill(roomList, rooms.map((room) => h("tr", { dataset: { roomId: room.id } },
      h("th", { scope: "row" }, room.name),
      h("td", {}, name[room.department_id] || "—"),
      h("td", {}, [room.hidden && "hidden", room.waiting_room && "waiting room", room.chat && "chat",
        room.screen_share && "screen sharing", room.participants_may_start && "participants may start",
        room.participants_add_materials && "participants add materials"]
        .filter(Boolean).join(", ")),
      h("td", {}, String(room.max_participants)),
      h("td", {}, h("button", { type: "button", "aria-label": "Edit " + room.name,
        onclick: () => editRoom(room).catch(showError) }, "Edit")))));
  }

  async function editRoom(room) {
    const form = h("form", { class: "stack", "aria-labelledby": "edit-room-title" },
      h("h3", { id: "edit-room-title", tabindex: "-1" }, "Room " + room.name),
      roomFields(room, departments, maxParticipants),
      h("div", { class: "button-row" }, h("button", { type: "submit", class: "primary" }, "Save room"),
        h("button", { type: "button", class: "danger", onclick: async (event) => {
          if (!confirm(`Delete the room ${room.name}?`)) return;
          if (await act(event.target, () => podium.delete("/rooms/" + room.id).then(() => true), `${room.name} deleted.`)) {
            fill(detail);
            await refresh();
          }
        } }, "Delete room")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const saved = await act(form.querySelector("button[type=submit]"), () => podium.patch("/rooms/" + room.id, roomBody(form)));
      if (saved) {
        await refresh();
        await editRoom(saved);
        say("Room saved.");
      }
    });
    let access = null;
    try {
      access = await accessPanel(podium, room, users.filter((u) => !u.pending));
    } catch (error) {
      access = h("p", { class: "muted" }, "Access rights: " + describeError(error));
    }
    fill(detail, h("div", { class: "panel" }, form, access));
    form.querySelector("h3").focus();
  }

  deptForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(deptForm);
    if (await act(deptForm.querySelector("button"), () => podium.post("/departments", { name: v.name, parent_id: v.parent_id }),
      (d) => `Department ${d.name} created.`)) { deptForm.reset(); await refresh(); }
  });
  roomForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await act(roomForm.querySelector("button[type=submit]"), () => podium.post("/rooms", roomBody(roomForm)),
      (r) => `Room ${r.name} created.`)) await refresh();
  });

  fill(root,
    h("h3", { id: "dept-title" }, "Departments"), departmentList,
    h("h4", { id: "new-dept-title" }, "New department"), deptForm,
    h("h3", {}, "Rooms"),
    h("table", { id: "admin-rooms" },
      h("thead", {}, h("tr", {}, ["Room", "Department", "Features", "Max participants", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
      roomList),
    detail, roomForm);
  await refresh();
}
