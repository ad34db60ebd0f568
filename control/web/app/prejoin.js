// The pre-join check: a camera preview, a microphone level, the choice of devices, and whether to join
// with the microphone and camera on. The tracks captured here are the ones the meeting then publishes.

import { fill, h } from "../lib/dom.js";

const SOURCES = { microphone: "audioinput", camera: "videoinput" };
const NAMES = { microphone: "Microphone", camera: "Camera" };

/** Build the check into `container`. Returns {choices()}: {microphone: {on, track}, camera: {on, track}}
 * (a track is null where the device could not be opened), and stop() for leaving without joining. */
export function preJoin(container) {
  const video = h("video", { id: "preview", autoplay: true, playsinline: true, muted: true, "aria-label": "Your camera" });
  video.muted = true;
  const cameraOff = h("div", { class: "preview-off", id: "preview-off" }, "Your camera is off");
  const level = h("meter", { id: "microphone-level", min: 0, max: 1, value: 0, "aria-label": "Microphone level" });
  const state = {};
  const rows = Object.keys(SOURCES).map((source) => {
    const on = h("input", { type: "checkbox", id: `prejoin-${source}`, checked: true });
    const select = h("select", { id: `prejoin-${source}-device`, "aria-label": `${NAMES[source]} device` });
    state[source] = { on, select, track: null };
    on.addEventListener("change", () => apply(source));
    select.addEventListener("change", () => open(source));
    return h("div", { class: "prejoin-row" },
      h("label", { class: "check" }, on, `Join with my ${source} on`), select);
  });
  fill(container, h("div", { class: "preview" }, video, cameraOff), h("div", { class: "level" }, "Microphone level ", level), rows);

  let analyser = null;
  let audioContext = null;
  let frame = 0;
  function measure() {
    if (analyser) {
      const samples = new Float32Array(analyser.fftSize);
      analyser.getFloatTimeDomainData(samples);
      const rms = Math.sqrt(samples.reduce((sum, x) => sum + x * x, 0) / samples.length);
      level.value = state.microphone.on.checked ? Math.min(1, rms * 4) : 0;
    }
    frame = requestAnimationFrame(measure);
  }

  function apply(source) {
    const { on, track } = state[source];
    if (track) track.enabled = on.checked;
    if (source === "camera") cameraOff.hidden = Boolean(on.checked && track);
  }

  async function open(source) {
    const { select } = state[source];
    const constraints = select.value ? { deviceId: { exact: select.value } } : true;
    const old = state[source].track;
    try {
      const stream = await navigator.mediaDevices.getUserMedia(source === "camera" ? { video: constraints } : { audio: constraints });
      state[source].track = stream.getTracks()[0];
    } catch {
      state[source].track = null;
    }
    if (old && old !== state[source].track) old.stop();
    const track = state[source].track;
    if (source === "camera") video.srcObject = track ? new MediaStream([track]) : null;
    else if (track) {
      audioContext?.close();
      audioContext = new AudioContext();
      analyser = audioContext.createAnalyser();
      audioContext.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    }
    apply(source);
    await listDevices();
  }

  async function listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
    for (const [source, kind] of Object.entries(SOURCES)) {
      const { select, track } = state[source];
      const current = track ? track.getSettings().deviceId : select.value;
      fill(select, devices.filter((d) => d.kind === kind)
        .map((d, i) => h("option", { value: d.deviceId }, d.label || `${NAMES[source]} ${i + 1}`)));
      if (current) select.value = current;
    }
  }

  open("camera").then(() => open("microphone"));
  measure();

  return {
    choices() {
      cancelAnimationFrame(frame);
      audioContext?.close();
      video.srcObject = null;
      return Object.fromEntries(Object.keys(SOURCES).map((s) => [s, { on: state[s].on.checked, track: state[s].track }]));
    },
    stop() {
      cancelAnimationFrame(frame);
      audioContext?.close();
      for (const s of Object.keys(SOURCES)) state[s].track?.stop();
    },
  };
}
