// Users and the permission tree. A permission the signed-in administrator may not grant or revoke
// is shown disabled, with the reason (the server's own rules, lib/permissions.js); the server
// still decides, and its refusal is shown when it disagrees.

import { ALL, LABELS, REASONS, children, refusal } from "../lib/permissions.js";
import { act, fill, formValues, h, say, showError } from "../lib/dom.js";

/** A link that sets a password with an invitation (or password-reset) token. */
export function passwordLink(token) {
  return `${location.origin}/index.html#invitation=${encodeURIComponent(token)}`;
}

function secretPanel(title, text, note) {
  return h("div", { class: "panel", role: "group", "aria-label": title },
    h("h3", {}, title),
    h("p", { class: "secret", tabindex: "0" }, text),
    h("p", { class: "muted" }, note));
}

function permissionTree(me, target, onChange) {
  const held = new Set(target ? target.permissions : []);
  const selfChange = Boolean(target && target.id === me.id);
  function item(permission) {
    const has = held.has(permission);
    const change = target ? (has ? "revoke" : "grant") : "grant";
    const why = refusal(me.permissions, target ? target.permissions : [], permission, change, { selfChange });
    const id = `perm-${target ? target.id : "new"}-${permission}`;
    const box = h("input", { type: "checkbox", id, name: permission, checked: has, disabled: Boolean(why),
      "aria-describedby": why ? id + "-why" : null, onchange: onChange ? (e) => onChange(permission, e.target) : null });
    return h("li", {},
      h("label", { class: "check", for: id }, box, LABELS[permission]),
      why ? h("span", { id: id + "-why", class: "reason" }, REASONS[why]) : null,
      children(permission).length ? h("ul", {}, children(permission).map(item)) : null);
  }
  return h("ul", { class: "tree" }, children(null).map(item));
}

async function userDetail(container, podium, me, user, refresh) {
  const title = h("h3", { id: "user-detail-title", tabindex: "-1" }, `${user.name} <${user.email}>`);
  const edit = h("form", { class: "inline", "aria-label": "Edit " + user.name },
    h("label", {}, "Name", h("input", { type: "text", name: "name", value: user.name, required: true, maxlength: 200 })),
    h("label", {}, "Email", h("input", { type: "email", name: "email", value: user.email, required: true })),
    h("button", { type: "submit" }, "Save"));
  edit.addEventListener("submit", async (event) => {
    event.preventDefault();
    const updated = await act(edit.querySelector("button"), () => podium.patch("/users/" + user.id, formValues(edit)));
    if (updated) {
      await refresh();
      await userDetail(container, podium, me, updated, refresh);
      say("User saved.");
    }
  });

  const tree = h("fieldset", {}, h("legend", {}, "Permissions of " + user.name));
  const renderTree = (target) => fill(tree, h("legend", {}, "Permissions of " + target.name),
    permissionTree(me, target, async (permission, box) => {
      const grant = box.checked;
      const path = `/users/${target.id}/permissions/${permission}`;
      const next = await act(box, () => (grant ? podium.put(path) : podium.delete(path)),
        `${LABELS[permission]} ${grant ? "granted to" : "revoked from"} ${target.name}.`);
      if (next) {
        user = next;
        renderTree(next);
        tree.querySelector(`input[name=${permission}]`)?.focus();
        refresh();
      } else box.checked = !grant;
    }));
  renderTree(user);

  const reset = h("button", { type: "button" }, "Reset password");
  const remove = h("button", { type: "button", class: "danger" }, "Delete user");
  const result = h("div", { "aria-live": "polite" });
  reset.addEventListener("click", async () => {
    const invitation = await act(reset, () => podium.post(`/users/${user.id}/password-reset`),
      `Password of ${user.name} reset: their sessions ended.`);
    if (invitation) fill(result, secretPanel("Password link", passwordLink(invitation.invitation_token),
      "Shown once. Send it to the user: they choose a new password with it."));
  });
  remove.addEventListener("click", async () => {
    if (!confirm(`Delete ${user.name}? Their sessions and API keys go with them.`)) return;
    const done = await act(remove, () => podium.delete("/users/" + user.id).then(() => true), `${user.name} deleted.`);
    if (done) { fill(container); await refresh(); }
  });
  fill(container, h("div", { class: "panel", role: "region", "aria-labelledby": "user-detail-title" },
    title, user.pending ? h("p", { class: "muted" }, "Invited: no password set yet.") : null,
    edit, tree, h("div", { class: "button-row" }, reset, remove), result));
  title.focus();
}

export async function render(root, { podium, me }) {
  const list = h("tbody");
  const detail = h("div");
  const search = h("form", { class: "inline", role: "search", "aria-label": "Search users" },
    h("label", {}, "Search users", h("input", { type: "search", name: "q", maxlength: 200 })),
    h("button", { type: "submit" }, "Search"));
  let query = null;

  async function refresh() {
    const users = await podium.all("/users", query ? { q: query } : {});
    fill(list, users.map((user) => h("tr", { dataset: { userId: user.id } },
      h("th", { scope: "row" }, user.name),
      h("td", {}, user.email),
      h("td", {}, user.pending ? "invited" : "active"),
      h("td", {}, user.permissions.map((p) => LABELS[p]).join(", ") || "—"),
      h("td", {}, h("button", { type: "button", "aria-label": "Manage " + user.name,
        onclick: () => userDetail(detail, podium, me, user, refresh).catch(showError) }, "Manage")))));
    return users;
  }
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    query = search.elements.q.value.trim() || null;
    refresh().then((users) => say(`${users.length} user${users.length === 1 ? "" : "s"} found.`), showError);
  });

  const invitePermissions = permissionTree(me, null, null);
  const invite = h("form", { class: "stack", "aria-labelledby": "invite-title" },
    h("h3", { id: "invite-title" }, "Invite a user"),
    h("label", {}, "Email", h("input", { type: "email", name: "email", required: true })),
    h("label", {}, "Name", h("input", { type: "text", name: "name", required: true, maxlength: 200 })),
    h("fieldset", {}, h("legend", {}, "Permissions"), invitePermissions),
    h("button", { type: "submit", class: "primary" }, "Invite"));
  const inviteResult = h("div", { "aria-live": "polite" });
  invite.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(invite);
    const permissions = ALL.filter((p) => values[p]);
    const created = await act(invite.querySelector("button[type=submit]"),
      () => podium.post("/users", { email: values.email, name: values.name, permissions }),
      (r) => `${r.user.name} invited.`);
    if (created) {
      invite.reset();
      fill(inviteResult, secretPanel("Invitation link for " + created.user.name, passwordLink(created.invitation_token),
        "Shown once. Send it to the user: they set their password with it."));
      await refresh();
    }
  });

  fill(root,
    search,
    h("table", { id: "users" },
      h("caption", { class: "muted" }, "Current and invited users"),
      h("thead", {}, h("tr", {}, ["Name", "Email", "Status", "Permissions", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
      list),
    detail, invite, inviteResult);
  await refresh();
}
