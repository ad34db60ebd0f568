// The meeting's whiteboard as a stage layout: a canvas with pen, line, arrow, rectangle, ellipse, text and
// eraser tools, a colour and a width, undo (one's own), and clear for moderators. The server orders every
// operation (docs/signaling.md, "Whiteboard"); the board drawn is the fold of lib/whiteboard-board.js over
// what the server sent, so every participant sees the same board. Drawing needs the `whiteboard`
// permission, which a moderator may revoke at any moment: the tools then disable themselves.
//
// Over WebTransport the stroke being drawn is previewed live: while the pen is down the client sends
// the stroke so far as datagrams (`whiteboard-preview`, thinned to PREVIEW_POINTS, at most every
// PREVIEW_INTERVAL_MS), and shows others' previews on an overlay canvas above the board, each until
// its author's committed stroke arrives (or PREVIEW_TTL_MS pass without news: a lost end).

import { h } from "../lib/dom.js";
import { Board, HEIGHT, WIDTH, clamp, strokesOf, topmostAt } from "../lib/whiteboard-board.js";

const TOOLS = [["pen", "Pen"], ["line", "Line"], ["arrow", "Arrow"], ["rect", "Rectangle"], ["ellipse", "Ellipse"],
  ["text", "Text"], ["erase", "Eraser"]];
const WIDTHS = [2, 4, 8, 16];
const TEXT_SIZE = 32;
/** The most points of one preview (control/domain/datagrams.py MAX_PREVIEW_POINTS). */
const PREVIEW_POINTS = 80;
/** At most 20 previews a second (the server drops what passes 30). */
const PREVIEW_INTERVAL_MS = 50;
const PREVIEW_TTL_MS = 1500;

/** The whiteboard of `meeting`: {element, toggle, open(), close(), board}. */
export function createWhiteboard(meeting) {
  const board = new Board();
  const canvas = h("canvas", { width: WIDTH, height: HEIGHT, id: "whiteboard-canvas", class: "whiteboard-canvas",
    role: "img", "aria-label": "Whiteboard", tabindex: "0" });
  const mainContext = canvas.getContext("2d");
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
  const overlay = h("canvas", { width: WIDTH, height: HEIGHT, id: "whiteboard-preview", class: "wb-preview",
    "aria-hidden": "true", hidden: true, dataset: { previews: "0", points: "0" } });
  const overlayContext = overlay.getContext("2d");
  const frame = h("div", { class: "wb-frame" }, canvas, overlay, textInput);
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
  meeting.addEventListener("whiteboard-op", ({ detail }) => { committed([detail.op]); take([detail.op]); });
  meeting.addEventListener("whiteboard-ops", ({ detail }) => { committed(detail.ops); take(detail.ops); });
  meeting.addEventListener("whiteboard-preview", ({ detail }) => previewed(detail));
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

  function drawItem(op, context = mainContext) {
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
    const context = mainContext;
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, WIDTH, HEIGHT);
    for (const op of board.visible().values()) drawItem(op);
    if (drag) drawItem(preview());
    canvas.dataset.ops = String(board.last);
  }

  // -- others' previews (datagrams) ---------------------------------------------------------------

  const previews = new Map(); // author → {stroke, color, width, points, timer}
  const ended = new Map(); // author → the stroke number whose preview their committed stroke replaced

  function previewed(detail) {
    if (detail.author === meeting.participantId || ended.get(detail.author) === detail.stroke) return; // late
    clearTimeout(previews.get(detail.author)?.timer);
    const timer = setTimeout(() => dropPreview(detail.author), PREVIEW_TTL_MS);
    previews.set(detail.author, { ...detail, kind: "stroke", timer });
    drawPreviews();
  }

  /** The real strokes arrived: their authors' previews go. */
  function committed(ops) {
    for (const op of ops) {
      const shown = op.kind === "stroke" && previews.get(op.author);
      if (!shown) continue;
      ended.set(op.author, shown.stroke);
      dropPreview(op.author);
    }
  }

  function dropPreview(author) {
    clearTimeout(previews.get(author)?.timer);
    if (previews.delete(author)) drawPreviews();
  }

  function drawPreviews() {
    // over the board canvas exactly (it is centred and scaled within the frame)
    const box = canvas.getBoundingClientRect(), base = frame.getBoundingClientRect();
    Object.assign(overlay.style, { left: `${box.left - base.left}px`, top: `${box.top - base.top}px`,
      width: `${box.width}px`, height: `${box.height}px` });
    overlayContext.clearRect(0, 0, WIDTH, HEIGHT);
    overlayContext.globalAlpha = 0.6;
    for (const preview of previews.values()) drawItem(preview, overlayContext);
    overlay.hidden = previews.size === 0;
    overlay.dataset.previews = String(previews.size);
    overlay.dataset.points = String([...previews.values()].reduce((sum, p) => sum + p.points.length, 0));
  }

  // -- one's own preview, sent ------------------------------------------------------------------

  let strokeNumber = 0;
  let previewSentAt = -Infinity;

  /** The stroke so far as a datagram, at most every PREVIEW_INTERVAL_MS (unless `now`); only over
   * WebTransport (a preview is worth nothing late, so never on the WebSocket). */
  function sendPreview(now = false) {
    if (!drag || tool !== "pen" || !meeting.datagrams) return;
    const at = performance.now();
    if (!now && at - previewSentAt < PREVIEW_INTERVAL_MS) return;
    previewSentAt = at;
    meeting.sendDatagram({ type: "whiteboard-preview", stroke: strokeNumber, ...style(), points: thinned(drag.points) });
  }

  /** At most PREVIEW_POINTS whole-number points along the stroke, its first and last among them. */
  function thinned(points) {
    const step = Math.max(1, (points.length - 1) / (PREVIEW_POINTS - 1));
    const picked = [];
    for (let i = 0; i < points.length - 1 && picked.length < PREVIEW_POINTS - 1; i += step) picked.push(points[Math.floor(i)]);
    picked.push(points[points.length - 1]);
    return picked.map(([x, y]) => [Math.round(x), Math.round(y)]);
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
    if (tool === "pen") {
      strokeNumber += 1;
      sendPreview(true);
    }
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const point = boardPoint(event);
    if (tool === "pen") drag.points.push(point);
    else drag.to = point;
    draw();
    sendPreview();
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
  return { element, toggle, open, close, board, previews };
}
