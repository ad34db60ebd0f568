// Signaling over WebTransport (docs/signaling.md, "WebTransport"): a WebSocket-shaped object over one
// bidirectional stream of a WebTransport session, one JSON frame per line, so lib/signaling.js carries
// the same frames over either. `chooseTransport` picks WebTransport where the browser has it and the page
// knows the server's WebTransport address, and the WebSocket otherwise (or when WebTransport fails).
// Datagrams go both ways: `sendDatagram(text)`, and `onmessage` events marked `datagram: true`.
//
//   const { url, WebSocketImpl } = await chooseTransport({ webTransportUrl, serverCertificateHashes });
//   new Meeting({ token, roomId, url, WebSocketImpl });

import { signalingUrl } from "./signaling.js";

const CONNECTING = 0, OPEN = 1, CLOSED = 3;
const CONNECT_TIMEOUT_MS = 5000;
/** The server's limit for one datagram frame (control/webtransport.py MAX_DATAGRAM). */
const MAX_DATAGRAM_BYTES = 1200;

/** A WebSocket-like connection (readyState, onopen, onmessage, onclose, send, close) over WebTransport.
 * `options` are WebTransport's (e.g. serverCertificateHashes for a development certificate). */
export class WebTransportSocket {
  constructor(url, options = {}) {
    this.url = url;
    this.readyState = CONNECTING;
    this.onopen = this.onmessage = this.onclose = this.onerror = () => {};
    this._writer = null;
    this._closeRecord = null;
    this._open(options).catch((error) => this._closed(1006, String(error && error.message || error)));
  }

  async _open(options) {
    this._transport = new WebTransport(this.url, options);
    await this._transport.ready;
    const stream = await this._transport.createBidirectionalStream();
    this._writer = stream.writable.getWriter();
    this._datagrams = this._transport.datagrams?.writable?.getWriter?.() || null;
    this._encoder = new TextEncoder();
    this.readyState = OPEN;
    this.onopen({});
    this._transport.closed.then(() => this._closed(), () => this._closed(1006, "WebTransport session lost"));
    this._readDatagrams();
    const reader = stream.readable.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        if (line.trim()) this._line(line);
      }
    }
    this._closed();
  }

  /** The server's datagrams (docs/signaling.md, "Datagrams"), each one frame: to `onmessage` with
   * `datagram: true`, as they come (a late or lost one is the receiver's business). */
  async _readDatagrams() {
    const readable = this._transport.datagrams?.readable;
    if (!readable) return;
    const reader = readable.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.readyState === CLOSED) return;
        this.onmessage({ data: decoder.decode(value), datagram: true });
      }
    } catch { /* the session ended */ }
  }

  _line(line) {
    const frame = JSON.parse(line);
    if (frame.type === "close") this._closeRecord = frame; // the server's close code and reason
    else this.onmessage({ data: line });
  }

  _closed(code, reason) {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    const record = this._closeRecord || { code: code ?? 1006, reason: reason || "" };
    this.onclose({ code: record.code, reason: record.reason });
  }

  send(text) {
    if (this.readyState !== OPEN) throw new Error("not open");
    this._writer.write(this._encoder.encode(`${text}\n`)).catch(() => {});
  }

  /** Send a frame's text as one datagram (unordered, may be lost); false where that cannot be done (no
   * datagrams, not open, over the server's limit), so the caller sends it on the stream instead. */
  sendDatagram(text) {
    if (this.readyState !== OPEN || !this._datagrams) return false;
    const bytes = this._encoder.encode(text);
    if (bytes.length > MAX_DATAGRAM_BYTES) return false;
    this._datagrams.write(bytes).catch(() => {});
    return true;
  }

  close() {
    if (this.readyState === CLOSED) return;
    try { this._transport.close({ closeCode: 0, reason: "bye" }); } catch { /* already gone */ }
    this._closed(1000, "bye");
  }
}

/** A WebSocketImpl for lib/signaling.js that opens WebTransport sessions with these options. */
export function webTransportImpl(options = {}) {
  return class extends WebTransportSocket { constructor(url) { super(url, options); } };
}

/** The hashes for `serverCertificateHashes` from hex SHA-256 digests of development certificates. */
export function certificateHashes(hexDigests) {
  return hexDigests.map((hex) => ({ algorithm: "sha-256", value: Uint8Array.from(hex.match(/../g), (b) => parseInt(b, 16)) }));
}

/** {url, WebSocketImpl, kind} for a Meeting's signaling: WebTransport when the browser has it, the server
 * offers it (`webTransportUrl`, with `serverCertificateHashes` for a development certificate) and a
 * session opens within a few seconds; the WebSocket (`websocketUrl`, `WebSocketImpl`) otherwise: no
 * WebTransport, a timeout, a refusal or a certificate the browser does not accept. */
export async function chooseTransport({ webTransportUrl = null, serverCertificateHashes = null, base = globalThis.location,
  websocketUrl = null, WebSocketImpl = globalThis.WebSocket, timeoutMs = CONNECT_TIMEOUT_MS } = {}) {
  const fallback = { url: websocketUrl || signalingUrl(base), WebSocketImpl, kind: "websocket" };
  if (!webTransportUrl || typeof globalThis.WebTransport !== "function") return fallback;
  const options = serverCertificateHashes ? { serverCertificateHashes } : {};
  let timer;
  try {
    const probe = new WebTransport(webTransportUrl, options);
    probe.closed?.catch?.(() => {}); // a refused session rejects `closed` too
    const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("timeout")), timeoutMs); });
    try {
      await Promise.race([probe.ready, late]);
    } finally {
      try { probe.close(); } catch { /* never opened */ }
    }
    return { url: webTransportUrl, WebSocketImpl: webTransportImpl(options), kind: "webtransport" };
  } catch {
    return fallback;
  } finally {
    clearTimeout(timer);
  }
}

/** What the server offers (GET /signaling/transports, docs/signaling.md "WebTransport") as a Meeting's
 * `webTransport` option: {url, certificateHashes} (hex SHA-256 digests), or null where it serves none or
 * cannot be asked. */
export async function offeredWebTransport({ fetchImpl = globalThis.fetch, base = globalThis.location } = {}) {
  try {
    const response = await fetchImpl(new URL("/signaling/transports", base.href || `${base.protocol}//${base.host}/`));
    if (!response.ok) return null;
    const { webtransport } = await response.json();
    return webtransport ? { url: webtransport.url, certificateHashes: webtransport.certificate_hashes || [] } : null;
  } catch {
    return null;
  }
}
