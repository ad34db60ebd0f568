// The room list: the rooms the server lets the caller see (hidden rooms only with access), with a
// link into each room's meeting.

import { podium, startPage } from "./shell.js";
import { fill, h, say, showError } from "../lib/dom.js";

function features(room) {
  const list = [];
  if (room.waiting_room) list.push("waiting room");
  if (room.chat) list.push("chat");
  if (room.screen_share) list.push("screen sharing");
  return list.join(", ") || "—";
}

async function load(q = null) {
  const [rooms, departments] = await Promise.all([
    podium.all("/rooms", q ? { q } : {}),
    podium.get("/departments").then((d) => d.items, () => []),
  ]);
  const departmentName = Object.fromEntries(departments.map((d) => [d.id, d.name]));
  const body = document.querySelector("#rooms tbody");
  fill(body, rooms.map((room) => h("tr", { dataset: { roomId: room.id } },
    h("th", { scope: "row" }, room.name),
    h("td", {}, departmentName[room.department_id] || "—"),
    h("td", {}, room.role || (room.role === null ? "no access right" : "")),
    h("td", {}, features(room)),
    h("td", { class: "online" }, room.online == null ? "—" : `${room.online} in the meeting`),
    h("td", {}, h("a", { href: "/meeting.html?room=" + encodeURIComponent(room.id),
      "aria-label": "Join " + room.name }, "Join"),
      room.role === "organizer" || room.role === "moderator" ? [" · ", h("a", {
        href: `/admin.html?room=${encodeURIComponent(room.id)}#invitations`, "aria-label": "Invite guests to " + room.name },
      "Invite guests")] : null))));
  document.getElementById("empty").hidden = rooms.length > 0;
  say(`${rooms.length} room${rooms.length === 1 ? "" : "s"}.`);
}

async function main() {
  await startPage();
  const form = document.getElementById("search");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    showError(null);
    load(form.elements.q.value.trim()).catch(showError);
  });
  await load();
}

main().catch(showError);
