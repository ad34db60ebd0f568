// The stage's pure helpers: avatar initials and the grid's column count.
import { test } from "node:test";
import assert from "node:assert/strict";
import { columnsFor, initials } from "../../control/web/app/meeting-stage.js";

test("initials: first and last word, upper case; one's own label without '(you)'", () => {
  assert.equal(initials("Bob Builder"), "BB");
  assert.equal(initials("ada"), "A");
  assert.equal(initials("Participant 3"), "P3");
  assert.equal(initials("Ada Lovelace King (you)"), "AK");
  assert.equal(initials("  "), "?");
  assert.equal(initials(null), "?");
});

test("columnsFor: one tile fills the stage, a phone gets at most two columns, a laptop up to four", () => {
  assert.equal(columnsFor(1, 1280), 1);
  assert.equal(columnsFor(2, 1280), 2);
  assert.equal(columnsFor(5, 1280), 3);
  assert.equal(columnsFor(12, 1280), 4);
  assert.equal(columnsFor(2, 390), 1);
  assert.equal(columnsFor(7, 390), 2);
});
