// Files in chat and a room's conference materials over the REST API (docs/control-api.md, "Files"),
// with the token the participant joined with (an access token or a guest token). Uploads send the
// file as multipart/form-data (the browser streams it from disk); downloads fetch it with the token
// and hand it to the browser as a saved file.
//
//   const files = new Files({ token: () => meeting._token() });
//   await files.share(meetingId, participantId, file, { to });   // to: a participant id, or null
//   await files.addMaterial(roomId, file);
//   const { items } = await files.materials(roomId);
//   await files.save(item);                                        // item: { url, name }

import { API_PREFIX, ApiError } from "./podium.js";

export class Files {
  /** `token`: the join token, or a function giving it (refreshed access tokens); `fetchImpl` for tests. */
  constructor({ token, fetchImpl = globalThis.fetch.bind(globalThis), base = "" }) {
    this.token = token;
    this.fetch = fetchImpl;
    this.base = base;
  }

  async _headers() {
    const token = typeof this.token === "function" ? await this.token() : this.token;
    return { Authorization: `Bearer ${token}` };
  }

  async _call(method, path, body = null) {
    const response = await this.fetch(this.base + path, { method, headers: await this._headers(), body });
    if (!response.ok) {
      const data = await response.json().catch(() => ({}));
      const error = data.error || { code: "http_error", message: `HTTP ${response.status}` };
      throw new ApiError(response.status, error.code, error.message, error.details);
    }
    return response.status === 204 ? null : response;
  }

  /** Share `file` (a File or Blob with a name) in the meeting's chat, to everyone or to participant `to`. */
  async share(meetingId, participantId, file, { to = null } = {}) {
    const query = new URLSearchParams({ participant: participantId });
    if (to) query.set("to", to);
    const form = new FormData();
    form.append("file", file, file.name || "file");
    const response = await this._call("POST", `${API_PREFIX}/meetings/${meetingId}/files?${query}`, form);
    return response.json();
  }

  /** Attach a document to the room (its moderators; participants where the room allows it). */
  async addMaterial(roomId, file) {
    const form = new FormData();
    form.append("file", file, file.name || "file");
    return (await this._call("POST", `${API_PREFIX}/rooms/${roomId}/materials`, form)).json();
  }

  /** The room's materials ({ items }), for those present in its meeting and its moderators. */
  async materials(roomId) {
    return (await this._call("GET", `${API_PREFIX}/rooms/${roomId}/materials`)).json();
  }

  /** The meeting's chat files this participant may read ({ items }). */
  async inMeeting(meetingId) {
    return (await this._call("GET", `${API_PREFIX}/meetings/${meetingId}/files`)).json();
  }

  async remove(fileId) {
    await this._call("DELETE", `${API_PREFIX}/files/${fileId}`);
  }

  /** The file's bytes as a Blob (a link cannot carry the token, so the page fetches them). */
  async blob(item) {
    return (await this._call("GET", item.url)).blob();
  }

  /** Save the file through the browser's download. */
  async save(item, doc = globalThis.document) {
    const url = URL.createObjectURL(await this.blob(item));
    const link = doc.createElement("a");
    link.href = url;
    link.download = item.name;
    link.rel = "noopener";
    doc.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

/** "1.2 MB" and the like, for people. */
export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
