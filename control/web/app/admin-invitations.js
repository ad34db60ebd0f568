// Invitation links for guests: personalized, single-use, with a validity window and rights.

import { fill, h } from "../lib/dom.js";

export async function render(root, { podium }) {
  fill(root, h("p", { class: "muted" }, "Invitation links are not available on this server yet."));
}
