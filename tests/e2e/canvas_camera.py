"""A camera for Chromium pages whose picture costs what a real camera's does: an init script that
makes getUserMedia's video a 960x540 canvas (three simulcast layers from 540 lines) painted 15 times
a second with a coarse random texture panning across it and a band of fresh noise (what an encoder
cannot predict). The built-in fake camera shows 640x480 (two layers) of mostly flat picture, cheap
at every layer; Chromium's file-backed one stops at the end of its file instead of looping."""

from __future__ import annotations

from typing import Any

WIDTH, HEIGHT, FPS = 960, 540, 15

SCRIPT = """(() => {
  const [W, H, FPS] = SIZE;
  const devices = navigator.mediaDevices;
  if (!devices) return;
  const original = devices.getUserMedia.bind(devices);
  const noise = (ctx, w, h, block) => {
    const img = ctx.createImageData(w, h);
    for (let y = 0; y < h; y += block) for (let x = 0; x < w; x += block) {
      const v = 16 + Math.floor(Math.random() * 220);
      for (let dy = 0; dy < block && y + dy < h; dy++) for (let dx = 0; dx < block && x + dx < w; dx++) {
        const i = 4 * ((y + dy) * w + x + dx);
        img.data[i] = img.data[i + 1] = img.data[i + 2] = v;
        img.data[i + 3] = 255;
      }
    }
    return img;
  };
  devices.getUserMedia = async (constraints) => {
    if (!constraints || !constraints.video) return original(constraints);
    const canvas = document.createElement('canvas');
    [canvas.width, canvas.height] = [W, H];
    const ctx = canvas.getContext('2d');
    const texture = document.createElement('canvas');
    [texture.width, texture.height] = [W, H];
    texture.getContext('2d').putImageData(noise(texture.getContext('2d'), W, H, 8), 0, 0);
    const bands = Array.from({ length: 4 }, () => noise(ctx, W, H / 6, 2));
    let frame = 0;
    const paint = () => {
      const x = (frame * 8) % W;
      ctx.drawImage(texture, -x, 0);
      ctx.drawImage(texture, W - x, 0);
      ctx.putImageData(bands[frame % bands.length], 0, H / 3);
      frame += 1;
    };
    paint();
    setInterval(paint, 1000 / FPS);
    const stream = canvas.captureStream(FPS);
    if (constraints.audio) {
      for (const track of (await original({ audio: constraints.audio })).getAudioTracks()) stream.addTrack(track);
    }
    return stream;
  };
})();""".replace("SIZE", f"[{WIDTH}, {HEIGHT}, {FPS}]")


def install(context: Any) -> None:
    """Every page of this Playwright browser context gets the canvas camera."""
    context.add_init_script(SCRIPT)
