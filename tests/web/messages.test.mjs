// Errors as sentences: the server's codes (REST and signaling) as words a person understands.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SENTENCES, fieldSentence, sentenceFor } from "../../control/web/lib/messages.js";
import { ApiError, describeError } from "../../control/web/lib/podium.js";
import { MeetingError } from "../../control/web/lib/signaling.js";

test("a known code is its sentence, whatever the server's own message says", () => {
  const error = new ApiError(404, "not_found", "nothing at /api/v1/rooms/r_1");
  assert.equal(describeError(error), SENTENCES.not_found);
  assert.doesNotMatch(describeError(error), /nothing at|api\/v1/);
  assert.equal(describeError(new ApiError(401, "invalid_credentials", "unknown company, email or password")),
    "The company, email or password is not right. Check them and try again.");
  assert.match(describeError(new ApiError(400, "ambiguous_company", "several companies have this name")), /short name/);
  assert.equal(sentenceFor(new MeetingError("floor_required", "presenter mode")), SENTENCES.floor_required);
});

test("validation errors name each field in words, never the pattern", () => {
  const error = new ApiError(422, "validation_failed", "invalid body (company: String should match pattern '^[a-z0-9]')", [
    { field: "body.company", message: "String should match pattern '^[a-z0-9][a-z0-9-]{0,62}$'", type: "string_pattern_mismatch" },
    { field: "body.password", message: "String should have at least 8 characters", type: "string_too_short" },
    { field: "body.max_participants", message: "Input should be greater than or equal to 1", type: "greater_than_equal" },
  ]);
  const text = describeError(error);
  assert.equal(text, "Please check what you entered: Company has characters that are not allowed; Password needs at least 8 characters; Max participants must be at least 1.");
  assert.doesNotMatch(text, /String should|\^\[a-z/);
  assert.equal(fieldSentence({ field: "body", message: "Field required" }), "A field is required");
});

test("unknown codes fall back to the status, then to a general sentence; a client's own Error keeps its words", () => {
  assert.equal(describeError(new ApiError(503, "http_503", "Service Unavailable")), "The server is busy or restarting. Try again in a moment.");
  assert.equal(describeError(new ApiError(418, "teapot", "I'm a teapot")), SENTENCES.bad_request);
  assert.equal(describeError(new ApiError(0, "network_error", "The server cannot be reached: TypeError")), SENTENCES.network_error);
  assert.match(sentenceFor(new MeetingError("something_new", "raw words")), /^Something went wrong/);
  assert.equal(describeError(new Error("The two passwords differ.")), "The two passwords differ.");
});

test("every code the server documents has a sentence", () => {
  const codes = ["invalid_credentials", "unauthenticated", "invalid_refresh_token", "invalid_token", "invalid_api_key",
    "session_required", "company_suspended", "permission_required", "not_found", "conflict", "validation_failed",
    "rate_limited", "internal_error", "meeting_ended", "unknown_participant", "missing_argument", "invalid_argument",
    "role_too_low", "target_not_lower", "not_self", "self_not_allowed", "actor_waiting", "target_waiting",
    "target_not_waiting", "no_waiting_room", "permission_missing", "floor_required", "not_a_moderator",
    "guest_cannot_organize", "rights_missing", "room_rights_holder", "room_full", "company_quota_reached",
    "last_moderator", "already_visited", "chat_disabled", "banned", "removed", "excluded", "revoked", "not_yet_valid",
    "expired", "already_used_elsewhere", "invalid_chat_text", "malformed", "invalid", "not_joined", "already_joined",
    "no_access", "sdp", "stale", "engine_unavailable", "engine_refused", "engine_timeout", "internal"];
  const missing = codes.filter((code) => !Object.hasOwn(SENTENCES, code));
  assert.deepEqual(missing, []);
});

test("a file over the size limit or the company's quota says so, with the limit, not 'too large to send'", () => {
  const large = new ApiError(413, "file_too_large", "a file may hold at most 104857600 bytes");
  assert.equal(describeError(large), "This file is too large: a shared file may hold at most 100 MB.");
  assert.equal(describeError(new ApiError(413, "file_too_large", "over the limit")), SENTENCES.file_too_large);
  const quota = new ApiError(409, "storage_quota_exceeded", "the company's storage quota of 10 bytes is reached (2 bytes left)");
  assert.equal(describeError(quota), SENTENCES.storage_quota_exceeded);
});

test("an invitation not valid yet says when it opens, in local time", () => {
  const early = new ApiError(403, "not_yet_valid", "this invitation is valid from 2026-12-08T10:32:01Z");
  const opens = new Date("2026-12-08T10:32:01Z").toLocaleString();
  assert.equal(describeError(early), `This invitation is not valid yet: it opens on ${opens}. Come back then.`);
  assert.equal(describeError(new ApiError(403, "not_yet_valid", "not yet")), SENTENCES.not_yet_valid);
});
