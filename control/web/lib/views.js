// How big a remote video is shown: a tile's size in device pixels, 0 x 0 while it is not shown
// (scrolled out of view, display:none, the page hidden). The meeting page reports it per remote track
// (Meeting.view, a `view` frame: docs/signaling.md), and the server picks the simulcast layer that
// size needs, or pauses the track. Changes are reported after SETTLE_MS of quiet, so a window being
// dragged sends one report, not one per frame.

export const SETTLE_MS = 300;

/** The size to report for an element: [width, height] in device pixels, [0, 0] when not shown. */
export function shownSize(rect, visible, pageVisible, ratio = 1) {
  if (!visible || !pageVisible || rect.width <= 0 || rect.height <= 0) return [0, 0];
  return [Math.round(rect.width * ratio), Math.round(rect.height * ratio)];
}

/** Watch `element` and call `report(width, height)` with its shown size when that changes (settled).
 * Returns a function that stops watching. `env` replaces the browser's globals in tests. */
export function watchShown(element, report, env = globalThis) {
  const { ResizeObserver, IntersectionObserver, document } = env;
  let visible = true;
  let timer = null;
  let last = null;
  const measure = () => {
    timer = null;
    const size = shownSize(element.getBoundingClientRect(), visible, document.visibilityState !== "hidden",
      env.devicePixelRatio || 1);
    if (last && last[0] === size[0] && last[1] === size[1]) return;
    last = size;
    report(size[0], size[1]);
  };
  const changed = () => {
    if (timer !== null) env.clearTimeout(timer);
    timer = env.setTimeout(measure, SETTLE_MS);
  };
  const resize = ResizeObserver ? new ResizeObserver(changed) : null;
  resize?.observe(element);
  const intersection = IntersectionObserver ? new IntersectionObserver((entries) => {
    visible = entries[entries.length - 1].isIntersecting;
    changed();
  }) : null;
  intersection?.observe(element);
  document.addEventListener("visibilitychange", changed);
  changed();
  return () => {
    if (timer !== null) env.clearTimeout(timer);
    resize?.disconnect();
    intersection?.disconnect();
    document.removeEventListener("visibilitychange", changed);
  };
}
