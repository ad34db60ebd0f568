// The client's whiteboard fold and tools' geometry (control/web/lib/whiteboard-board.js).

import { test } from "node:test";
import assert from "node:assert/strict";

import { Board, MAX_POINTS, clamp, hits, strokesOf, topmostAt, visible } from "../../control/web/lib/whiteboard-board.js";

const stroke = (seq, points = [[10, 10], [50, 10]], author = "a") => ({ seq, kind: "stroke", author, color: "#000000", width: 4, points });

test("operations are applied in sequence order, duplicates ignored, early ones held back", () => {
  const board = new Board();
  assert.equal(board.apply(stroke(2)), false);
  assert.equal(board.last, 0);
  assert.equal(board.apply(stroke(1)), true);
  assert.equal(board.last, 2);
  assert.equal(board.apply(stroke(1)), false);
  assert.deepEqual([...board.visible().keys()], [1, 2]);
});

test("the fold: erase, undo (of an erase too) and clear, as the server folds", () => {
  const ops = [stroke(1), stroke(2), { seq: 3, kind: "erase", author: "b", targets: [1] }];
  assert.deepEqual([...visible(ops).keys()], [2]);
  ops.push({ seq: 4, kind: "undo", author: "b", undoes: 3 });
  assert.deepEqual([...visible(ops).keys()], [1, 2]);
  ops.push({ seq: 5, kind: "clear", author: "m" }, stroke(6));
  assert.deepEqual([...visible(ops).keys()], [6]);
});

test("a long line becomes strokes of at most MAX_POINTS points that join", () => {
  const points = Array.from({ length: 2500 }, (_, i) => [i % 1600, 5]);
  const strokes = strokesOf(points, 0);
  assert.ok(strokes.every((s) => s.length <= MAX_POINTS));
  for (let i = 1; i < strokes.length; i += 1) assert.deepEqual(strokes[i][0], strokes[i - 1][strokes[i - 1].length - 1]);
  assert.deepEqual(strokes.flat().at(-1), points.at(-1));
  assert.deepEqual(strokesOf([[0, 0], [0.5, 0], [1, 0], [10, 0]], 2), [[[0, 0], [10, 0]]]);
});

test("the eraser hits strokes, shapes and text near the point, the latest first", () => {
  const line = stroke(1, [[0, 0], [100, 0]]);
  assert.ok(hits(line, [50, 5]));
  assert.ok(!hits(line, [50, 30]));
  const rect = { seq: 2, kind: "shape", shape: "rect", x1: 200, y1: 200, x2: 100, y2: 100, width: 2 };
  assert.ok(hits(rect, [150, 150]));
  const text = { seq: 3, kind: "text", text: "hello", x: 300, y: 300, size: 20 };
  assert.ok(hits(text, [310, 290]) && !hits(text, [310, 400]));
  const items = new Map([[1, line], [4, stroke(4, [[0, 0], [100, 0]])]]);
  assert.equal(topmostAt(items, [10, 0]).seq, 4);
  assert.equal(topmostAt(items, [500, 500]), null);
  assert.deepEqual(clamp([-5, 1000]), [0, 900]);
});
