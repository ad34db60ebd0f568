// What the server's refusals mean to a person: each stable error code (control/errors.py, the API's
// `{"error": {code, message, details}}` bodies, and the signaling codes of docs/signaling.md) as a
// sentence that says what happened and what to do. The server's own message stays for developers
// (the console, the API); people read these. Codes not listed fall back to one sentence per HTTP status.

/** Sentences by error code, REST and signaling alike. */
export const SENTENCES = {
  // signing in, sessions, credentials
  invalid_credentials: "The company, email or password is not right. Check them and try again.",
  ambiguous_company: "Several companies have this name. Type your company's short name instead (for example acme): your administrator can tell you what it is.",
  unauthenticated: "Your session has ended. Sign in again.",
  invalid_refresh_token: "Your session has ended. Sign in again.",
  invalid_token: "Your session has ended, or this link is no longer valid. Sign in again or ask for a new link.",
  invalid_api_key: "This API key is unknown or was revoked.",
  session_required: "This needs a signed-in session, not an API key.",
  company_suspended: "Your company's account is suspended. Contact whoever runs this Podium server.",
  wrong_password: "Your current password is not right.",
  invalid_invitation: "This invitation link is not valid any more: it was used, revoked or has expired. Ask for a new one.",
  // permissions
  forbidden: "You are not allowed to do this.",
  permission_required: "You are not allowed to do this: your account lacks the permission. Ask an administrator.",
  room_administration_required: "Only people who administer rooms may do this.",
  permissions_exceed_yours: "You cannot give permissions that you do not hold yourself.",
  own_account: "You cannot do this to your own account.",
  // what is asked for is not there
  not_found: "This was not found: it may have been deleted, or the link may be wrong.",
  group_link_not_found: "This link was not found: it may have been deleted, or it may be mistyped.",
  method_not_allowed: "This action is not possible here.",
  // conflicts and quotas
  conflict: "Someone changed this at the same time. Reload the page and try again.",
  email_taken: "A user with this email address exists already.",
  company_exists: "A company with this short name exists already.",
  add_in_name_taken: "An add-in with this name exists already.",
  department_not_empty: "This department still has people or other departments in it: move them first.",
  department_cycle: "A department cannot be placed inside itself or one of its own departments.",
  quota_exceeded: "Your company has reached its limit for this. Ask whoever runs this Podium server to raise it.",
  room_size_exceeds_quota: "This room size is larger than your company's limit of participants.",
  expiry_in_past: "The end date is in the past: choose a later one.",
  organizer_must_be_registered: "Only registered users can be organizers, not guests.",
  not_a_participant: "This person is not in the meeting.",
  // bad input
  bad_request: "Something in the request was not right. Check what you entered and try again.",
  validation_failed: "Some of what you entered is not right.",
  malformed_json: "The request could not be read. Reload the page and try again.",
  bad_content_length: "The request could not be read. Reload the page and try again.",
  body_too_large: "This is too large to send.",
  file_too_large: "This file is larger than this server accepts.",
  storage_quota_exceeded: "Your company's storage for shared files is full. Ask your administrator to remove old files or raise the limit.",
  rate_limited: "Too many tries in a short time. Wait a minute, then try again.",
  internal_error: "Something went wrong on the server. Try again; if it keeps happening, tell your administrator.",
  network_error: "The server cannot be reached. Check your connection and try again.",
  // meetings (docs/signaling.md, "Error codes")
  meeting_ended: "The meeting has ended.",
  meeting_not_started: "The meeting has not started yet.",
  no_access: "You do not have access to this room. Ask its organizer to invite you.",
  room_full: "The room is full: the most people it allows are in it. Try again later.",
  company_quota_reached: "Your company has as many people in meetings as it may have at once. Try again later.",
  banned: "You were banned from this room.",
  removed: "A moderator removed you from this room for a while.",
  excluded: "A moderator removed you from this meeting.",
  unknown_participant: "This person is no longer in the meeting.",
  missing_argument: "Something needed for this action is missing. Reload the page and try again.",
  invalid_argument: "This action cannot be done that way. Reload the page and try again.",
  malformed: "The browser sent something the server could not read. Reload the page.",
  invalid: "The browser sent something the server could not use. Reload the page.",
  not_joined: "You are not in the meeting yet. Reload the page to join.",
  already_joined: "You are already in this meeting.",
  role_too_low: "Your role in this meeting does not allow this.",
  target_not_lower: "You cannot do this to someone whose role is the same as yours or higher.",
  not_self: "Only the person themselves can do this.",
  self_not_allowed: "You cannot do this to yourself.",
  actor_waiting: "You are still in the waiting room: wait until a moderator lets you in.",
  target_waiting: "This person is still in the waiting room: let them in first.",
  target_not_waiting: "This person is no longer in the waiting room.",
  no_waiting_room: "This room has no waiting room.",
  permission_missing: "You are not allowed to do this in this meeting: a moderator can give you the permission.",
  floor_required: "In presenter mode, only the person who has the floor may speak. Ask a moderator for the floor.",
  not_a_moderator: "The meeting can only be handed over to a moderator.",
  guest_cannot_organize: "Guests cannot be organizers.",
  rights_missing: "This person does not have the rights in this room for that role.",
  room_rights_holder: "People who may organize this room cannot be removed or banned from it.",
  last_moderator: "You are the last moderator: make someone else a moderator first.",
  already_visited: "Another moderator is already with this person in the waiting room.",
  chat_disabled: "Chat is turned off in this room.",
  invalid_chat_text: "This message cannot be sent: it is empty or too long.",
  revoked: "This invitation was revoked. Ask for a new one.",
  not_yet_valid: "This invitation is not valid yet. Ask whoever sent it when it opens.",
  expired: "This invitation has expired. Ask for a new one.",
  already_used_elsewhere: "This invitation was opened in another browser already. Open it there, or ask for a new one.",
  invitee_name_required: "An invitation needs the name of the person invited.",
  invalid_window: "The invitation must end after it starts.",
  rights_not_held: "You can only give a guest rights that you hold yourself.",
  engine_unavailable: "The media server is not available right now. Try again in a moment.",
  engine_refused: "The media server could not do this. Try again in a moment.",
  engine_timeout: "The media server did not answer in time. Try again in a moment.",
  sdp: "Your browser and the server could not agree on the media. Reload the page.",
  stale: "That came too late. It has been sent again.",
  timeout: "The server did not answer in time. Check your connection and try again.",
  closed: "The connection to the meeting was closed. Reload the page to join again.",
  media: "Your camera or microphone could not be used. Check that no other app uses it and that the browser may use it.",
  reconnect: "The media connection could not be set up again. Reload the page.",
  internal: "Something went wrong on the server. Try again; if it keeps happening, tell your administrator.",
};

/** One sentence per HTTP status, for codes not listed above. */
export const BY_STATUS = {
  0: SENTENCES.network_error,
  400: SENTENCES.bad_request,
  401: SENTENCES.unauthenticated,
  403: SENTENCES.forbidden,
  404: SENTENCES.not_found,
  409: SENTENCES.conflict,
  413: SENTENCES.body_too_large,
  422: SENTENCES.validation_failed,
  429: SENTENCES.rate_limited,
  500: SENTENCES.internal_error,
  502: "The server cannot be reached right now. Try again in a moment.",
  503: "The server is busy or restarting. Try again in a moment.",
};

/** A validation problem of one field, e.g. {field: "body.company", message: "String should match
 * pattern '^[a-z…'"} → "Company has characters that are not allowed". */
export function fieldSentence({ field = "", message = "" } = {}) {
  const name = String(field).replace(/^(body|query|path)\.?/, "").split(".").filter((p) => !/^\d+$/.test(p)).pop() || "A field";
  const label = name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  const text = String(message);
  let problem;
  let m;
  if (/^Field required/i.test(text)) problem = "is required";
  else if (/should match pattern/i.test(text)) problem = "has characters that are not allowed";
  else if ((m = /at least (\d+) (character|item)/i.exec(text))) problem = `needs at least ${m[1]} ${m[2]}${m[1] === "1" ? "" : "s"}`;
  else if ((m = /at most (\d+) (character|item)/i.exec(text))) problem = `may have at most ${m[1]} ${m[2]}${m[1] === "1" ? "" : "s"}`;
  else if (/valid email/i.test(text)) problem = "is not a valid email address";
  else if (/valid (integer|number)/i.test(text)) problem = "must be a number";
  else if (/greater than or equal to (\S+)/i.test(text)) problem = `must be at least ${/greater than or equal to (\S+)/i.exec(text)[1]}`;
  else if (/less than or equal to (\S+)/i.test(text)) problem = `must be at most ${/less than or equal to (\S+)/i.exec(text)[1]}`;
  else if (/valid datetime|valid date/i.test(text)) problem = "is not a valid date and time";
  else if (/Input should be/i.test(text)) problem = "has a value that is not allowed";
  else if (/Extra inputs/i.test(text)) problem = "is not expected here";
  else problem = "is not right";
  return `${label} ${problem}`;
}

/** The sentence a person reads for an error: an ApiError (status, code, details), a MeetingError (code),
 * or any other Error (its own message, which the client wrote for people). */
export function sentenceFor(error) {
  if (!error) return "";
  const code = error.code;
  if (code === "validation_failed" || (error.status === 422 && Array.isArray(error.details) && error.details.length)) {
    const fields = Array.isArray(error.details) ? error.details.map(fieldSentence) : [];
    return fields.length ? `Please check what you entered: ${fields.join("; ")}.` : SENTENCES.validation_failed;
  }
  if (code === "file_too_large") {
    // the server names its limit in bytes ("a file may hold at most N bytes"): say it in megabytes
    const limit = /at most (\d+) bytes/.exec(String(error.message || ""));
    if (limit) return `This file is too large: a shared file may hold at most ${Math.max(1, Math.round(Number(limit[1]) / 1048576))} MB.`;
  }
  if (code === "not_yet_valid") {
    // the server gives the window's start ("valid from 2026-12-07T14:00:00Z"): say it in local time
    const from = /valid from (\d{4}-\d\d-\d\dT[\d:]+Z)/.exec(String(error.message || ""));
    if (from) return `This invitation is not valid yet: it opens on ${new Date(from[1]).toLocaleString()}. Come back then.`;
  }
  if (code && Object.hasOwn(SENTENCES, code)) return SENTENCES[code];
  if (typeof error.status === "number") return BY_STATUS[error.status] || (error.status >= 500 ? SENTENCES.internal_error : SENTENCES.bad_request);
  if (code) return "Something went wrong. Try again; if it keeps happening, reload the page.";
  return error.message ? String(error.message) : String(error);
}
