"""Janus with only its VideoRoom plugin and HTTP transport, configured in a temporary directory.

The benchmark installs nothing: it finds the `janus` binary (Debian's package; see
scripts/install-test-deps.sh) and its module folders, and links only the two modules it needs into
private folders, so no other plugin, transport, event handler or logger is loaded."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

MODULE_ROOTS = (Path("/usr/lib/x86_64-linux-gnu/janus"), Path("/usr/lib/janus"), Path("/usr/local/lib/janus"))
PLUGIN = "libjanus_videoroom.so"
TRANSPORT = "libjanus_http.so"


def find_janus() -> tuple[Path, Path]:
    """(the janus binary, its module root holding plugins/ and transports/)."""
    binary = shutil.which("janus") or next(
        (p for p in ("/usr/bin/janus", "/usr/local/bin/janus") if Path(p).exists()), None
    )
    if binary is None:
        raise FileNotFoundError("janus not found: install Debian's `janus` package (scripts/install-test-deps.sh)")
    for root in MODULE_ROOTS:
        if (root / "plugins" / PLUGIN).exists() and (root / "transports" / TRANSPORT).exists():
            return Path(binary), root
    raise FileNotFoundError(f"janus modules ({PLUGIN}, {TRANSPORT}) not found under {MODULE_ROOTS}")


def _config(folder: Path, interface: str) -> str:
    return f"""general: {{
    configs_folder = "{folder}"
    plugins_folder = "{folder / "plugins"}"
    transports_folder = "{folder / "transports"}"
    events_folder = "{folder / "events"}"
    loggers_folder = "{folder / "loggers"}"
    debug_level = 3
    admin_secret = "unused-{os.getpid()}"
    protected_folders = ["{folder}"]
}}
media: {{
    ipv6 = false
}}
nat: {{
    nice_debug = false
    ice_enforce_list = "{interface}"
}}
events: {{
    broadcast = false
}}
"""


@dataclass
class JanusServer:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/janus"

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    def start(cls, folder: Path, port: int, interface: str, timeout: float = 20.0) -> JanusServer:
        """Janus with its HTTP API on 127.0.0.1:port and ICE on `interface` only."""
        binary, modules = find_janus()
        folder.mkdir(parents=True, exist_ok=True)
        for kind, name in (("plugins", PLUGIN), ("transports", TRANSPORT), ("events", None), ("loggers", None)):
            (folder / kind).mkdir(exist_ok=True)
            if name:
                link = folder / kind / name
                link.unlink(missing_ok=True)
                link.symlink_to(modules / kind / name)
        (folder / "janus.jcfg").write_text(_config(folder, interface))
        (folder / "janus.plugin.videoroom.jcfg").write_text("general: {\n}\n")
        (folder / "janus.transport.http.jcfg").write_text(
            f'general: {{\n    json = "compact"\n    base_path = "/janus"\n    http = true\n    port = {port}\n'
            f'    ip = "127.0.0.1"\n    https = false\n}}\n'
            "admin: {\n    admin_http = false\n    admin_https = false\n}\n"
        )
        log = folder / "janus.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(binary), "--configs-folder", str(folder), "--config", str(folder / "janus.jcfg")],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = cls(process, port, log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"janus exited: {log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{server.url}/info", timeout=1).json().get("janus") == "server_info":
                    return server
            time.sleep(0.2)
        server.stop()
        raise RuntimeError(f"janus did not answer: {log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Janus's own clean shutdown
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
