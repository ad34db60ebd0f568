// The company permission tree and who may grant or revoke what: the same rules as the server's
// control/domain/permissions.py, so that the administration page can show a permission one may not
// change as disabled, with the reason, before the server would refuse it.

export const PARENT = {
  manage_company_settings: null,
  show_all_usernames: "manage_company_settings",
  administrate_users: "manage_company_settings",
  list_all_users: "administrate_users",
  administrate_rooms: "manage_company_settings",
  list_all_rooms: "administrate_rooms",
  create_room: "administrate_rooms",
};

export const LABELS = {
  manage_company_settings: "Manage company settings",
  show_all_usernames: "Show all usernames",
  administrate_users: "Administrate users",
  list_all_users: "List all users",
  administrate_rooms: "Administrate rooms",
  list_all_rooms: "List all rooms",
  create_room: "Create a room",
};

export const ALL = Object.keys(PARENT);

export const REASONS = {
  administrate_users_required: "Only holders of Administrate users change permissions of others.",
  own_permissions: "Nobody can revoke their own permissions.",
  manage_company_settings_required: "Granting or revoking Manage company settings requires holding it.",
  permission_not_held: "You can grant or revoke only permissions you hold.",
  permission_implied_by_parent: "Implied by a parent permission: revoke the parent instead.",
};

export function ancestors(permission) {
  const found = [];
  for (let p = PARENT[permission]; p; p = PARENT[p]) found.push(p);
  return found;
}

export function descendants(permission) {
  return ALL.filter((p) => p === permission || ancestors(p).includes(permission));
}

export function closure(permissions) {
  const held = new Set();
  for (const p of permissions) for (const d of descendants(p)) held.add(d);
  return held;
}

/** Children of a permission (or the roots, for null), in tree order. */
export function children(permission) {
  return ALL.filter((p) => PARENT[p] === permission);
}

/** Why `granter` may not grant ("grant") or revoke ("revoke") `permission` of `target`, as a code of
 * REASONS, or null when allowed. */
export function refusal(granter, target, permission, change, { selfChange = false } = {}) {
  const g = closure(granter);
  const t = selfChange ? g : closure(target);
  if (!g.has("administrate_users")) return "administrate_users_required";
  if (selfChange && change === "revoke") return "own_permissions";
  if (permission === "manage_company_settings" && !g.has(permission)) return "manage_company_settings_required";
  if (!g.has(permission)) return "permission_not_held";
  if (change === "revoke" && ancestors(permission).some((a) => t.has(a))) return "permission_implied_by_parent";
  return null;
}
