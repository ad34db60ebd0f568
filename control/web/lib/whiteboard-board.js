// The whiteboard as the client keeps it: the server's operations in sequence order, and the board they fold
// into (the same fold as control/domain/whiteboard.py `visible`), plus the geometry the tools need. Pure: no
// DOM, tested under node (tests/web/whiteboard-board.test.mjs). Operations: docs/signaling.md, "Whiteboard".

export const WIDTH = 1600;
export const HEIGHT = 900;
export const MAX_POINTS = 1000; // points of one stroke (a longer line is sent as several strokes)
const DRAWINGS = new Set(["stroke", "shape", "text"]);

/** The operations of one meeting's board, applied in the server's order whatever order they arrive in. */
export class Board {
  constructor() {
    this.ops = []; // in seq order, without gaps
    this.pending = new Map(); // seq → op that arrived before the ones before it
  }

  /** The last sequence number applied (0: none): a replay asks for what comes after it. */
  get last() { return this.ops.length ? this.ops[this.ops.length - 1].seq : 0; }

  /** Take one operation; returns whether the board changed (a duplicate or an early one does not). */
  apply(op) {
    if (op.seq <= this.last || this.pending.has(op.seq)) return false;
    this.pending.set(op.seq, op);
    let changed = false;
    while (this.pending.has(this.last + 1)) {
      const next = this.pending.get(this.last + 1);
      this.pending.delete(next.seq);
      this.ops.push(next);
      changed = true;
    }
    return changed;
  }

  /** The drawings shown, in order. */
  visible() { return visible(this.ops); }
}

/** seq → drawing operation still shown: undone operations count as never made, an erase removes what it
 * names, a clear removes everything before it. */
export function visible(ops) {
  const undone = new Set(ops.filter((op) => op.kind === "undo").map((op) => op.undoes));
  const items = new Map();
  for (const op of ops) {
    if (undone.has(op.seq)) continue;
    if (DRAWINGS.has(op.kind)) items.set(op.seq, op);
    else if (op.kind === "erase") for (const target of op.targets) items.delete(target);
    else if (op.kind === "clear") items.clear();
  }
  return items;
}

/** Drop points closer than `spacing` to the last kept one (the last point is always kept), then cut the
 * line into strokes of at most MAX_POINTS points that join end to start. */
export function strokesOf(points, spacing = 2) {
  const kept = [];
  for (const [i, point] of points.entries()) {
    const last = kept[kept.length - 1];
    if (!last || i === points.length - 1 || Math.hypot(point[0] - last[0], point[1] - last[1]) >= spacing) kept.push(point);
  }
  const strokes = [];
  for (let start = 0; start < kept.length; start += MAX_POINTS - 1) {
    strokes.push(kept.slice(start, start + MAX_POINTS));
    if (start + MAX_POINTS >= kept.length) break;
  }
  return strokes;
}

/** A point of the board, clamped to it. */
export function clamp([x, y]) {
  return [Math.min(WIDTH, Math.max(0, x)), Math.min(HEIGHT, Math.max(0, y))];
}

function segmentDistance([px, py], [ax, ay], [bx, by]) {
  const dx = bx - ax, dy = by - ay;
  const length = dx * dx + dy * dy;
  const t = length ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / length)) : 0;
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Whether a drawing lies within `tolerance` board units of a point (the eraser's hit). */
export function hits(op, point, tolerance = 8) {
  const reach = tolerance + (op.width || 0) / 2;
  if (op.kind === "stroke") {
    const pts = op.points;
    if (pts.length === 1) return Math.hypot(point[0] - pts[0][0], point[1] - pts[0][1]) <= reach;
    return pts.slice(1).some((p, i) => segmentDistance(point, pts[i], p) <= reach);
  }
  if (op.kind === "shape") {
    const [x0, x1] = [Math.min(op.x1, op.x2), Math.max(op.x1, op.x2)];
    const [y0, y1] = [Math.min(op.y1, op.y2), Math.max(op.y1, op.y2)];
    if (op.shape === "line" || op.shape === "arrow") return segmentDistance(point, [op.x1, op.y1], [op.x2, op.y2]) <= reach;
    return point[0] >= x0 - reach && point[0] <= x1 + reach && point[1] >= y0 - reach && point[1] <= y1 + reach;
  }
  if (op.kind === "text") {
    const lines = op.text.split("\n");
    const width = Math.max(...lines.map((line) => line.length)) * op.size * 0.6;
    return point[0] >= op.x - tolerance && point[0] <= op.x + width + tolerance
      && point[1] >= op.y - op.size - tolerance && point[1] <= op.y + op.size * (lines.length - 1) + tolerance;
  }
  return false;
}

/** The topmost drawing under a point (the latest drawn), or null. */
export function topmostAt(items, point, tolerance = 8) {
  const found = [...items.values()].filter((op) => hits(op, point, tolerance));
  return found.length ? found[found.length - 1] : null;
}
