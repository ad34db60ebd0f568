// What a participant's client reports, with consent, when a moderator asks for its settings
// (docs/signaling.md, "Settings requests"), and how a proposed change becomes constraints. Pure functions
// over what the browser gives (MediaDeviceInfo, MediaTrackSettings, RTCRtpSendParameters), tested under node.

const LABEL = 200;
const cut = (text) => String(text || "").slice(0, LABEL);

/** The report's `devices`: inputs and outputs by kind, id and label (labels are empty until the page was
 * allowed a device). */
export function devicesOf(infos) {
  return infos.filter((d) => ["audioinput", "videoinput", "audiooutput"].includes(d.kind)).slice(0, 64)
    .map((d) => ({ kind: d.kind, device_id: cut(d.deviceId), label: cut(d.label) }));
}

/** One source's `capture` entry from its track's settings and its sender's parameters (maxBitrate, or the
 * measured rate in bits per second when given). */
export function captureOf(source, { settings = {}, label = "", on = true, parameters = null, measuredBitrate = null }) {
  const entry = { source, on, label: cut(label) };
  if (settings.deviceId) entry.device_id = cut(settings.deviceId);
  if (settings.width) entry.width = Math.round(settings.width);
  if (settings.height) entry.height = Math.round(settings.height);
  if (settings.frameRate) entry.frame_rate = Math.round(settings.frameRate * 100) / 100;
  if (settings.sampleRate) entry.sample_rate = Math.round(settings.sampleRate);
  const max = parameters && parameters.encodings && parameters.encodings[0] && parameters.encodings[0].maxBitrate;
  if (max) entry.bitrate = Math.round(max);
  else if (measuredBitrate) entry.bitrate = Math.round(measuredBitrate);
  return entry;
}

/** The track constraints of a proposal ({source, width, height, frame_rate, bitrate}). */
export function constraintsOf(proposal) {
  const constraints = {};
  if (proposal.width) constraints.width = { ideal: proposal.width };
  if (proposal.height) constraints.height = { ideal: proposal.height };
  if (proposal.frame_rate) constraints.frameRate = { ideal: proposal.frame_rate };
  return constraints;
}

/** Send parameters with a proposal's bitrate as every encoding's maxBitrate (unchanged without one). */
export function withBitrate(parameters, proposal) {
  if (!proposal.bitrate) return parameters;
  const encodings = (parameters.encodings && parameters.encodings.length ? parameters.encodings : [{}])
    .map((encoding) => ({ ...encoding, maxBitrate: proposal.bitrate }));
  return { ...parameters, encodings };
}

/** A proposal in words, for the consent prompt: "camera at 640×360, 15 frames/s, 500 kbit/s". */
export function describeProposal(proposal) {
  const parts = [];
  if (proposal.width && proposal.height) parts.push(`${proposal.width}×${proposal.height}`);
  else if (proposal.width || proposal.height) parts.push(proposal.width ? `${proposal.width} px wide` : `${proposal.height} px high`);
  if (proposal.frame_rate) parts.push(`${proposal.frame_rate} frames/s`);
  if (proposal.bitrate) parts.push(`${Math.round(proposal.bitrate / 1000)} kbit/s`);
  return `${proposal.source || "camera"} at ${parts.join(", ") || "its current settings"}`;
}
