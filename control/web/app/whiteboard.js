// The meeting's whiteboard as a stage layout: a canvas with pen, line, arrow, rectangle, ellipse, text and
// eraser tools, a colour and a width, undo (one's own), and clear for moderators. The server orders every
// operation (docs/signaling.md, "Whiteboard"); the board drawn is the fold of lib/whiteboard-board.js over
// what the server sent, so every participant sees the same board. Drawing needs the `whiteboard`
// permission, which a moderator may revoke at any moment: the tools then disable themselves.

import { h } from "../lib/dom.js";
import { Board, HEIGHT, WIDTH, clamp, strokesOf, topmostAt } from "../lib/whiteboard-board.js";

const TOOLS = [["pen", "Pen"], ["line", "Line"], ["arrow", "Arrow"], ["rect", "Rectangle"], ["ellipse", "Ellipse"],
  ["text", "Text"], ["erase", "Eraser"]];
const WIDTHS = [2, 4, 8, 16];
const TEXT_SIZE = 32;

/** The whiteboard of `meeting`: {element, toggle, open(), close(), board}. */
export function createWhiteboard(meeting) {
  const board = new Board();
  const canvas = h("canvas", { width: WIDTH, height: HEIGHT, id: "whiteboard-canvas", class: "whiteboard-canvas",
    role: "img", "aria-label": "Whiteboard", tabindex: "0" });
  const context = canvas.getContext("2d");
  let tool = "pen";
  let drag = null; // {points} (pen) or {from, to} (shapes) while the pointer is down
  const toolButtons = TOOLS.map(([name, title]) => h("button", { type: "button", class: "wb-tool", dataset: { tool: name },
    "aria-pressed": String(name === tool), onclick: () => choose(name) }, title));
  const color = h("input", { type: "color", value: "#1a73e8", id: "whiteboard-color", "aria-label": "Colour" });
  const width = h("select", { id: "whiteboard-width", "aria-label": "Line width" },
    WIDTHS.map((w) => h("option", { value: String(w), selected: w === 4 }, `${w} px`)));
  const undo = h("button", { type: "button", id: "whiteboard-undo", onclick: () => send({ kind: "undo" }) }, "Undo");
  const clear = h("button", { type: "button", id: "whiteboard-clear", class: "danger", onclick: clearBoard }, "Clear board");
  const note = h("p", { class: "wb-note", id: "whiteboard-note", role: "status", "aria-live": "polite" });
  const tools = h("div", { class: "wb-tools", role: "toolbar", "aria-label": "Whiteboard tools" },
    toolButtons, color, width, undo, clear);
  const textInput = h("input", { type: "text", class: "wb-text", id: "whiteboard-text", maxlength: 500, hidden: true,
    "aria-label": "Text to place on the whiteboard" });
  const frame = h("div", { class: "wb-frame" }, canvas, textInput);
  const element = h("section", { class: "whiteboard", id: "whiteboard", "aria-label": "Whiteboard", hidden: true },
    tools, frame, note);
  const toggle = h("button", { type: "button", id: "whiteboard-toggle", class: "stage-tool", "aria-pressed": "false", hidden: true,
    onclick: () => (element.hidden ? open() : close()) }, "Whiteboard");

  function choose(name) {
    tool = name;
    for (const button of toolButtons) button.setAttribute("aria-pressed", String(button.dataset.tool === name));
    canvas.dataset.tool = name;
  }
  choose(tool);

  // -- the server's side ---------------------------------------------------------------------------

  async function send(op) {
    try {
      await meeting.signaling.request({ type: "whiteboard", op });
      note.textContent = "";
    } catch (error) {
      note.textContent = error.message || String(error);
    }
  }

  function clearBoard() {
    if (window.confirm("Clear the whiteboard for everyone? This cannot be undone.")) send({ kind: "clear" });
  }

  let syncing = null;
  let synced = false; // the board was replayed since joining (or since the last resume)
  /** Ask for what came after the last operation we hold (all of it at first, the gap after a resume). */
  function sync() {
    const self = meeting.self;
    if (!self || self.waiting || syncing) return;
    syncing = meeting.signaling.request({ type: "whiteboard-sync", after: board.last })
      .then(() => { synced = true; }, () => {}).finally(() => { syncing = null; });
  }

  function take(ops) {
    let changed = false;
    for (const op of ops) changed = board.apply(op) || changed;
    if (changed) draw();
  }
  meeting.addEventListener("whiteboard-op", ({ detail }) => take([detail.op]));
  meeting.addEventListener("whiteboard-ops", ({ detail }) => take(detail.ops));
  for (const type of ["admitted", "reconnected"]) meeting.addEventListener(type, () => { synced = false; sync(); });
  meeting.addEventListener("participants", () => { rights(); if (!synced) sync(); });

  /** The tools follow the person's right (revocable live), role (clear: moderators) and admission. */
  function rights() {
    // the board belongs to the meeting: hidden (and closed) in the waiting room, shown once admitted
    const waiting = !meeting.self || meeting.self.waiting;
    toggle.hidden = waiting;
    if (waiting && !element.hidden) close();
    const may = meeting.can("whiteboard");
    for (const control of [...toolButtons, color, width, undo]) control.disabled = !may;
    clear.hidden = !meeting.moderates;
    clear.disabled = !may;
    canvas.dataset.drawing = String(may);
    element.dataset.allowed = String(may);
    if (!may) note.textContent = "A moderator turned off the whiteboard for you: you can still see it.";
    else if (note.textContent.startsWith("A moderator turned off")) note.textContent = "";
  }

  // -- drawing ------------------------------------------------------------------------------------

  function drawItem(op) {
    context.strokeStyle = context.fillStyle = op.color;
    context.lineWidth = op.width || 1;
    context.lineCap = context.lineJoin = "round";
    if (op.kind === "stroke") {
      context.beginPath();
      const [first, ...rest] = op.points;
      context.moveTo(first[0], first[1]);
      if (!rest.length) context.lineTo(first[0] + 0.01, first[1]);
      for (const [x, y] of rest) context.lineTo(x, y);
      context.stroke();
    } else if (op.kind === "shape") {
      context.beginPath();
      if (op.shape === "rect") context.rect(op.x1, op.y1, op.x2 - op.x1, op.y2 - op.y1);
      else if (op.shape === "ellipse") {
        context.ellipse((op.x1 + op.x2) / 2, (op.y1 + op.y2) / 2, Math.abs(op.x2 - op.x1) / 2, Math.abs(op.y2 - op.y1) / 2, 0, 0, 2 * Math.PI);
      } else {
        context.moveTo(op.x1, op.y1);
        context.lineTo(op.x2, op.y2);
      }
      context.stroke();
      if (op.shape === "arrow") {
        const angle = Math.atan2(op.y2 - op.y1, op.x2 - op.x1);
        const size = Math.max(op.width * 4, 10);
        context.beginPath();
        context.moveTo(op.x2, op.y2);
        for (const turn of [-Math.PI / 7, Math.PI / 7]) context.lineTo(op.x2 - size * Math.cos(angle + turn), op.y2 - size * Math.sin(angle + turn));
        context.closePath();
        context.fill();
      }
    } else if (op.kind === "text") {
      context.font = `${op.size}px sans-serif`;
      op.text.split("\n").forEach((line, i) => context.fillText(line, op.x, op.y + i * op.size));
    }
  }

  function draw() {
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, WIDTH, HEIGHT);
    for (const op of board.visible().values()) drawItem(op);
    if (drag) drawItem(preview());
    canvas.dataset.ops = String(board.last);
  }

  function boardPoint(event) {
    const box = canvas.getBoundingClientRect();
    return clamp([(event.clientX - box.left) * (WIDTH / box.width), (event.clientY - box.top) * (HEIGHT / box.height)])
      .map((v) => Math.round(v * 10) / 10);
  }

  const style = () => ({ color: color.value, width: Number(width.value) });

  function preview() {
    if (tool === "pen") return { kind: "stroke", ...style(), points: drag.points };
    const [x1, y1] = drag.from, [x2, y2] = drag.to;
    return { kind: "shape", shape: tool, ...style(), x1, y1, x2, y2 };
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (!meeting.can("whiteboard") || event.button !== 0) return;
    const point = boardPoint(event);
    if (tool === "erase") {
      const hit = topmostAt(board.visible(), point);
      if (hit) send({ kind: "erase", targets: [hit.seq] });
      return;
    }
    if (tool === "text") {
      placeText(point, event);
      return;
    }
    canvas.setPointerCapture(event.pointerId);
    drag = tool === "pen" ? { points: [point] } : { from: point, to: point };
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const point = boardPoint(event);
    if (tool === "pen") drag.points.push(point);
    else drag.to = point;
    draw();
  });
  const finish = () => {
    if (!drag) return;
    const shape = preview();
    drag = null;
    if (shape.kind === "stroke") for (const points of strokesOf(shape.points)) send({ ...shape, points });
    else if (shape.x1 !== shape.x2 || shape.y1 !== shape.y2) send(shape);
    draw();
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);

  function placeText(point, event) {
    const box = frame.getBoundingClientRect();
    textInput.hidden = false;
    textInput.value = "";
    textInput.style.left = `${event.clientX - box.left}px`;
    textInput.style.top = `${event.clientY - box.top - 16}px`;
    textInput.dataset.x = String(point[0]);
    textInput.dataset.y = String(point[1]);
    textInput.focus();
  }
  textInput.addEventListener("keydown", (event) => {
    if (event.key === "Escape") textInput.hidden = true;
    if (event.key !== "Enter") return;
    event.preventDefault();
    const text = textInput.value.trim();
    textInput.hidden = true;
    if (text) send({ kind: "text", text, color: color.value, size: TEXT_SIZE, x: Number(textInput.dataset.x), y: Number(textInput.dataset.y) });
  });

  function open() {
    element.hidden = false;
    toggle.setAttribute("aria-pressed", "true");
    element.dispatchEvent(new CustomEvent("whiteboard-layout", { bubbles: true, detail: { open: true } }));
    rights();
    sync();
    draw();
  }

  function close() {
    element.hidden = true;
    toggle.setAttribute("aria-pressed", "false");
    element.dispatchEvent(new CustomEvent("whiteboard-layout", { bubbles: true, detail: { open: false } }));
  }

  draw();
  return { element, toggle, open, close, board };
}
