// The administration page: one section at a time, chosen by the address's #fragment, so that each
// section has its own link and the browser's back button works.

import { podium, startPage } from "./shell.js";
import { fill, labelTablesOf, showError, say } from "../lib/dom.js";
import * as users from "./admin-users.js";
import * as apiKeys from "./admin-keys.js";
import * as rooms from "./admin-rooms.js";
import * as invitations from "./admin-invitations.js";
import * as reports from "./admin-reports.js";

const SECTIONS = {
  users: ["Users and permissions", users],
  "api-keys": ["API keys", apiKeys],
  rooms: ["Departments and rooms", rooms],
  invitations: ["Invitation links", invitations],
  reports: ["Attendance and audit log", reports],
};

let me = null;

async function show(focus) {
  const name = SECTIONS[location.hash.slice(1)] ? location.hash.slice(1) : "users";
  const [title, module] = SECTIONS[name];
  for (const link of document.querySelectorAll(".admin-nav a")) {
    link.setAttribute("aria-current", link.getAttribute("href") === "#" + name ? "page" : "false");
  }
  document.title = `${title} · Administration · Podium`;
  const heading = document.getElementById("section-title");
  heading.textContent = title;
  const body = fill(document.getElementById("section-body"));
  showError(null);
  say("");
  try {
    await module.render(body, { podium, me });
  } catch (error) {
    showError(error);
  }
  if (focus) heading.focus();
}

async function main() {
  me = await startPage();
  labelTablesOf(document.getElementById("section-body")); // cards on a phone
  window.addEventListener("hashchange", () => show(true));
  await show(false);
  document.body.dataset.ready = "true";
}

main().catch(showError);
