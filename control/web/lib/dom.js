// Small DOM helpers shared by the pages: element creation, the status and error regions, busy buttons.

import { describeError } from "./podium.js";

/** h("button", { type: "button", onclick }, "Save") — attributes starting with "on" become listeners;
 * `class`, `for`, aria-* and data-* are attributes; booleans toggle. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(name, "");
    else if (name in element && !name.includes("-") && name !== "list" && name !== "form") element[name] = value;
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's content. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** Announce progress or success in the page's polite status region (#status). */
export function say(text) {
  const region = document.getElementById("status");
  if (region) region.textContent = text;
}

/** Show a refusal or failure in the page's alert region (#error); `null` clears it. */
export function showError(error) {
  const region = document.getElementById("error");
  if (!region) return;
  region.textContent = error ? describeError(error) : "";
  region.hidden = !error;
}

/** Run an action from a button or form: disable it while it runs, clear and show errors, announce
 * `done` (a string or a function of the result) when it succeeds. Resolves to the result or undefined. */
export async function act(control, action, done = null) {
  showError(null);
  if (control) control.disabled = true;
  if (control) control.setAttribute("aria-busy", "true");
  try {
    const result = await action();
    if (done) say(typeof done === "function" ? done(result) : done);
    return result;
  } catch (error) {
    showError(error);
    return undefined;
  } finally {
    if (control) {
      control.disabled = false;
      control.removeAttribute("aria-busy");
    }
  }
}

/** Form fields as an object; checkboxes as booleans, empty strings as null. */
export function formValues(form) {
  const values = {};
  for (const field of form.elements) {
    if (!field.name) continue;
    if (field.type === "checkbox") values[field.name] = field.checked;
    else if (field.type === "password") values[field.name] = field.value;
    else values[field.name] = field.value.trim() === "" ? null : field.value.trim();
  }
  return values;
}

export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

let fieldCount = 0;

/** A labelled control: <label for> beside it rather than around it, so that the control's accessible
 * name is the label alone (a label around a <select> would also read its selected option). */
export function field(text, control) {
  if (!control.id) control.id = `field-${++fieldCount}`;
  return h("span", { class: "field" }, h("label", { for: control.id }, text), control);
}

/** Name each cell of the tables under `root` after its column (`data-label`, from the header row): on a phone
 * the tables show as cards (style.css), a cell saying what it is. */
export function labelTables(root = document) {
  for (const table of root.querySelectorAll("table")) {
    const heads = [...table.querySelectorAll("thead tr:last-child th")].map((th) => th.textContent.trim());
    if (!heads.length) continue;
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((cell, i) => {
        const label = heads[i] || "";
        if (cell.dataset.label !== label) cell.dataset.label = label;
      });
    }
  }
}

/** Keep the tables under `root` labelled as they are filled and refilled. */
export function labelTablesOf(root) {
  labelTables(root);
  new MutationObserver(() => labelTables(root)).observe(root, { childList: true, subtree: true });
}
