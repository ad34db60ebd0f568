// The frame every page shares: the header with navigation and the signed-in user, the status and
// error regions, and the redirect to the login page when there is no session.

import { PodiumClient } from "../lib/podium.js";
import { closure } from "../lib/permissions.js";
import { h, fill, showError } from "../lib/dom.js";

export const podium = new PodiumClient();

/** Send the browser to the login page, coming back here afterwards. */
export function toLogin() {
  const next = location.pathname + location.search + location.hash;
  location.replace("/index.html?next=" + encodeURIComponent(next));
}

function header(me) {
  const links = [["Rooms", "/rooms.html"]];
  const held = closure(me ? me.permissions : []);
  if (held.has("administrate_users") || held.has("list_all_users") || held.has("administrate_rooms") ||
      held.has("manage_company_settings") || held.has("create_room")) links.push(["Administration", "/admin.html"]);
  return h("header", { class: "site" },
    h("a", { class: "skip", href: "#main" }, "Skip to content"),
    h("a", { class: "brand", href: "/rooms.html" }, "Podium"),
    h("nav", { "aria-label": "Main" }, h("ul", {}, links.map(([text, href]) =>
      h("li", {}, h("a", { href, "aria-current": location.pathname === href ? "page" : null }, text))))),
    me ? h("div", { class: "who" },
      h("span", { id: "signed-in-as" }, "Signed in as ", h("strong", {}, me.name)),
      h("button", { type: "button", id: "sign-out", onclick: signOut }, "Sign out")) : null);
}

async function signOut() {
  await podium.logout();
  location.assign("/index.html");
}

/** Start a page: the header, and for signed-in pages the caller's profile (/me).
 * Resolves to `me` (null on public pages). */
export async function startPage({ signedIn = true } = {}) {
  let me = null;
  if (signedIn) {
    if (!podium.signedIn) {
      toLogin();
      return new Promise(() => {});
    }
    try {
      me = await podium.get("/me");
    } catch (error) {
      if (error.status === 401) {
        podium.forget();
        toLogin();
        return new Promise(() => {});
      }
      showError(error);
    }
  }
  const slot = document.getElementById("site-header");
  if (slot) slot.replaceWith(header(me));
  podium.addEventListener("session", (event) => { if (!event.detail.signedIn && signedIn) toLogin(); });
  return me;
}

export { h, fill };
