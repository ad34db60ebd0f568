// The stage's tools beside the video: the whiteboard layout (app/whiteboard.js), the moderator's requests to
// a participant (app/moderator-requests.js) and the participant's consent prompts (app/consent-prompts.js).
// Mounted once by the stage (app/meeting-stage.js); their styles are app/stage-tools.css.

import { h } from "../lib/dom.js";
import { createWhiteboard } from "./whiteboard.js";
import { mountConsentPrompts } from "./consent-prompts.js";
import { mountModeratorRequests } from "./moderator-requests.js";

const STYLES = new URL("./stage-tools.css", import.meta.url).href;

/** Add the tools to the stage `element` of `meeting`; `label(p)` names a person. */
export function mountStageTools(meeting, element, label) {
  if (!document.querySelector(`link[href="${STYLES}"]`)) {
    document.head.append(h("link", { rel: "stylesheet", href: STYLES }));
  }
  const whiteboard = createWhiteboard(meeting);
  const bar = h("div", { class: "stage-tools", id: "stage-tools", role: "toolbar", "aria-label": "Stage tools" }, whiteboard.toggle);
  element.append(whiteboard.element, bar);
  // the whiteboard takes the stage while it is open (the tiles stay, hidden: their media keeps flowing)
  element.addEventListener("whiteboard-layout", ({ detail }) => { element.dataset.board = detail.open ? "open" : "closed"; });
  mountModeratorRequests(meeting, bar, label);
  // the whiteboard's tools keep clear of this bar, whose width depends on who is looking (a moderator's is wider)
  new ResizeObserver(() => element.style.setProperty("--stage-tools-width", `${bar.offsetWidth}px`)).observe(bar);
  mountConsentPrompts(meeting, element, label);
  return { whiteboard };
}
