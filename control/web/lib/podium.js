// Podium's REST client: login sessions (access and refresh tokens), a fetch wrapper whose errors
// carry the server's stable code and a readable message, and downloads. No dependencies.
//
//   import { PodiumClient } from "/lib/podium.js";
//   const podium = new PodiumClient();                 // same origin, tokens in localStorage (shared by tabs)
//   await podium.login("acme", "admin@acme.example", "secret-password");
//   const me = await podium.get("/me");
//   const rooms = await podium.get("/rooms", { query: { q: "board" } });

import { sentenceFor } from "./messages.js";

export const API_PREFIX = "/api/v1";

/** An error answered by the server (`status`, `code`, `message`, `details`) or a network failure
 * (`status` 0, `code` "network_error"). `message` is meant for people. */
export class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const STATUS_TEXT = {
  400: "The request was malformed",
  401: "You are not signed in, or your session has ended",
  403: "You are not allowed to do this",
  404: "Not found",
  409: "This conflicts with the current state",
  422: "Some fields are invalid",
  429: "Too many requests; try again shortly",
  500: "The server failed; try again",
  502: "The server is unreachable",
  503: "The server is unavailable; try again shortly",
};

/** One sentence for people (lib/messages.js): what the server's code means and what to do about it. The
 * server's own message stays on the error (`message`) for developers. */
export function describeError(error) {
  return sentenceFor(error);
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: keep the status text
  }
  const e = body && body.error;
  if (e && typeof e.message === "string") return new ApiError(response.status, e.code || "error", e.message, e.details || null);
  return new ApiError(response.status, "http_" + response.status, STATUS_TEXT[response.status] || response.statusText || "Request failed");
}

/** Where the token pair is kept: localStorage by default, shared by every tab of the browser (one sign-in
 * for all of them; PodiumClient refreshes under a cross-tab lock, so two tabs never spend the same
 * single-use refresh token). Any object with getItem/setItem/removeItem works. */
export class TokenStore {
  constructor(storage = globalThis.localStorage, key = "podium.tokens") {
    this.storage = storage;
    this.key = key;
  }
  load() {
    try {
      return JSON.parse(this.storage.getItem(this.key) || "null");
    } catch {
      return null;
    }
  }
  save(tokens) {
    try {
      if (tokens) this.storage.setItem(this.key, JSON.stringify(tokens));
      else this.storage.removeItem(this.key);
    } catch {
      // full or denied: this tab keeps its tokens in memory
    }
  }
  /** Call `changed()` when another tab changes the stored pair (signs in, refreshes, signs out). */
  watch(changed) {
    if (this.storage !== globalThis.localStorage || typeof globalThis.addEventListener !== "function") return;
    globalThis.addEventListener("storage", (event) => { if (event.key === this.key || event.key === null) changed(); });
  }
}

/** Run `task` while holding the browser-wide lock `name` (Web Locks: one tab at a time), or at once where
 * there are no Web Locks (node, old browsers). */
function exclusive(name, task) {
  const locks = globalThis.navigator && globalThis.navigator.locks;
  return locks ? locks.request(name, task) : task();
}

const EXPIRY_MARGIN_MS = 30_000;
const expiring = (tokens) => Boolean(tokens.expires_at && Date.now() > tokens.expires_at - EXPIRY_MARGIN_MS);

function queryString(query) {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.append(name, String(value));
  }
  const text = params.toString();
  return text ? "?" + text : "";
}

/** The REST API of one Podium server. Events (EventTarget): "session" when the login session starts,
 * is refreshed or ends (detail: { signedIn }). */
export class PodiumClient extends EventTarget {
  constructor({ baseUrl = "", store = new TokenStore(), fetch: fetchImpl = null } = {}) {
    super();
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.store = store;
    this._fetch = fetchImpl || ((...args) => globalThis.fetch(...args));
    this._tokens = store.load();
    this._refreshing = null;
    store.watch?.(() => {
      const was = this.signedIn;
      this._tokens = store.load();
      if (was !== this.signedIn || this.signedIn) this.dispatchEvent(new CustomEvent("session", { detail: { signedIn: this.signedIn } }));
    });
  }

  /** Whether a token pair is held (it may still turn out expired or revoked). */
  get signedIn() {
    return Boolean(this._tokens && this._tokens.access_token);
  }

  /** The current access token, refreshed first when it is about to expire. */
  async accessToken() {
    if (!this._tokens) return null;
    if (expiring(this._tokens)) await this.refresh();
    return this._tokens ? this._tokens.access_token : null;
  }

  _setTokens(pair) {
    this._tokens = pair ? { ...pair, expires_at: Date.now() + (pair.expires_in || 900) * 1000 } : null;
    this.store.save(this._tokens);
    this.dispatchEvent(new CustomEvent("session", { detail: { signedIn: this.signedIn } }));
  }

  /** Log in with the company's slug, email and password. */
  async login(company, email, password) {
    const pair = await this.request("POST", "/auth/login", { body: { company, email, password }, auth: false });
    this._setTokens(pair);
    return pair;
  }

  /** Set a password with an invitation (or password-reset) token, and log in. */
  async acceptInvitation(invitationToken, password) {
    const pair = await this.request("POST", "/auth/accept-invitation",
      { body: { invitation_token: invitationToken, password }, auth: false });
    this._setTokens(pair);
    return pair;
  }

  /** Trade the refresh token for a new pair; concurrent callers share one request, and tabs take turns
 * (a tab that finds a pair another tab refreshed meanwhile uses it). On refusal the session ends
 * (signedIn becomes false) and the error is thrown. */
  async refresh() {
    const seen = this._tokens && this._tokens.access_token;
    if (!this._refreshing) {
      this._refreshing = exclusive("podium.refresh", () => this._refreshOnce(seen))
        .finally(() => { this._refreshing = null; });
    }
    return this._refreshing;
  }

  async _refreshOnce(seen) {
    const stored = this.store.load(); // another tab may have refreshed, or signed out, while we waited
    if (stored && stored.access_token !== seen && !expiring(stored)) {
      this._tokens = stored;
      return;
    }
    this._tokens = stored || this._tokens;
    if (!this._tokens || !this._tokens.refresh_token) throw new ApiError(401, "unauthenticated", "not signed in");
    try {
      this._setTokens(await this.request("POST", "/auth/refresh", { body: { refresh_token: this._tokens.refresh_token }, auth: false }));
    } catch (error) {
      if (error.status === 401) this._setTokens(null);
      throw error;
    }
  }

  /** Revoke this session on the server (best effort) and forget the tokens. */
  async logout() {
    try {
      if (this.signedIn) await this.request("POST", "/auth/logout");
    } catch {
      // the session is forgotten here anyway
    }
    this._setTokens(null);
  }

  /** Forget the tokens without telling the server. */
  forget() {
    this._setTokens(null);
  }

  /** One API call: `path` is relative to /api/v1. Resolves to the parsed JSON (null for 204), or with
   * `raw: true` to the Response. Throws ApiError. An expired access token is refreshed once. */
  async request(method, path, { query = null, body = undefined, auth = true, raw = false, retry = true } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth) {
      const token = await this.accessToken();
      if (token) headers.Authorization = "Bearer " + token;
    }
    let response;
    try {
      response = await this._fetch(this.baseUrl + API_PREFIX + path + queryString(query), {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, "network_error", "The server cannot be reached: " + (error.message || error));
    }
    if (response.status === 401 && auth && retry && this._tokens && this._tokens.refresh_token) {
      try {
        await this.refresh();
      } catch {
        throw await errorFrom(response);
      }
      return this.request(method, path, { query, body, auth, raw, retry: false });
    }
    if (!response.ok) throw await errorFrom(response);
    if (raw) return response;
    if (response.status === 204) return null;
    const type = response.headers.get("Content-Type") || "";
    return type.includes("json") ? response.json() : response.text();
  }

  get(path, options = {}) { return this.request("GET", path, options); }
  post(path, body, options = {}) { return this.request("POST", path, { ...options, body }); }
  put(path, body, options = {}) { return this.request("PUT", path, { ...options, body }); }
  patch(path, body, options = {}) { return this.request("PATCH", path, { ...options, body }); }
  delete(path, options = {}) { return this.request("DELETE", path, options); }

  /** Every item of a paged list (`{items, total, offset, limit}`), following pages. */
  async all(path, query = {}) {
    const items = [];
    for (let offset = 0; ; ) {
      const page = await this.get(path, { query: { ...query, offset, limit: 200 } });
      items.push(...page.items);
      offset += page.items.length;
      if (!page.items.length || offset >= page.total) return items;
    }
  }

  /** Fetch an authenticated file (e.g. /audit-events.csv) and hand it to the browser as a download. */
  async download(path, { query = null, filename = null } = {}) {
    const response = await this.request("GET", path, { query, raw: true });
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename="?([^";]+)"?/.exec(disposition);
    const name = filename || (match ? match[1] : path.split("/").pop());
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return { name, size: blob.size, type: blob.type };
  }
}
