"""Browser end-to-end support: `podium serve` as a subprocess on a free loopback port with a fresh data
directory and a bootstrapped administrator, Debian's headless Chromium through Playwright (fake media
devices; no browser is ever downloaded), a small REST helper for setting up data, and screenshots.

Test modules import the fixtures they use: `from browser_fixtures import browser, server  # noqa: F401`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("PODIUM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--allow-loopback-in-peer-connection",
]
START_TIMEOUT = 30.0
COMPANY, ADMIN_EMAIL, ADMIN_PASSWORD = "acme", "admin@acme.example", "admin password"
UI_TIMEOUT_MS = 15_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """The REST API as one user (for setting up what a test needs, and for checking the outcome)."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base + "/api/v1"
        self.token = token

    def call(self, method: str, path: str, body: Any = None, expect: int | None = None, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = httpx.request(
            method, self.base + path, json=body, headers=headers, params=params or None, timeout=10
        )
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        elif response.is_error:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        if response.status_code == 204 or not response.content:
            return None
        return response.json() if "json" in response.headers.get("content-type", "") else response.text

    def login(self, email: str, password: str, company: str = COMPANY) -> Api:
        tokens = self.call("POST", "/auth/login", {"company": company, "email": email, "password": password})
        return Api(self.base.removesuffix("/api/v1"), tokens["access_token"])

    def new_user(
        self, email: str, name: str, password: str, permissions: list[str] | None = None, company: str = COMPANY
    ) -> Api:
        """Invite a user and set the password, which logs them in (to `company`, this caller's): one
        password hash, no second one to verify."""
        invited = self.call("POST", "/users", {"email": email, "name": name, "permissions": permissions or []})
        anonymous = Api(self.base.removesuffix("/api/v1"))
        tokens = anonymous.call(
            "POST", "/auth/accept-invitation", {"invitation_token": invited["invitation_token"], "password": password}
        )
        user = Api(anonymous.base.removesuffix("/api/v1"), tokens["access_token"])
        user.user_id = invited["user"]["id"]  # type: ignore[attr-defined]
        return user


@dataclass
class Server:
    url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    admin: Api = field(init=False)

    def __post_init__(self) -> None:
        self.admin = Api(self.url).login(ADMIN_EMAIL, ADMIN_PASSWORD)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self) -> float:
        """SIGTERM, as an operator stops it; the seconds it took to exit."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return time.monotonic() - started

    def restart(self) -> float:
        """Stop it and start it again on the same port and data; the seconds the stop took."""
        stopped = self.stop()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        _wait_answering(self.url, self.process, self.log_path)
        return stopped


def _wait_answering(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"podium serve exited ({process.returncode}):\n{log_path.read_text()}", pytrace=False)
        try:
            if httpx.get(url + "/api/v1/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(
                f"podium serve did not answer within {START_TIMEOUT:.0f} s:\n{log_path.read_text()}", pytrace=False
            )
        time.sleep(0.1)


def start_server(engine: bool, binds: tuple[str, ...] = ("127.0.0.1",)) -> Iterator[Server]:
    """`podium serve` listening on `binds` (its URL: the first), its workers announcing them."""
    data_dir = Path(tempfile.mkdtemp(prefix="podium-web-"))
    log_path = data_dir / "serve.log"
    # no per-address rate limits: every page of the suite signs in and joins from 127.0.0.1
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PODIUM_RATE_LIMITS": "login=off,refresh=off,invitation=off,join=off"}
    boot = subprocess.run(
        [
            sys.executable,
            "-m",
            "podium.cli",
            "bootstrap",
            "--company",
            "Acme",
            "--slug",
            COMPANY,
            "--email",
            ADMIN_EMAIL,
            "--password",
            ADMIN_PASSWORD,
            "--name",
            "Ada Admin",
            "--data-dir",
            str(data_dir),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert boot.returncode == 0, boot.stderr
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "podium.cli",
        "serve",
        *(option for host in binds for option in ("--bind", host)),
        "--workers",
        "1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    if not engine:
        command.append("--no-engine")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://{binds[0]}:{port}"
    server: Server | None = None
    try:
        _wait_answering(url, process, log_path)
        server = Server(url, data_dir, log_path, process, command, env)
        yield server
    finally:
        if server is not None:
            server.stop()
        elif process.poll() is None:
            process.kill()
            process.wait(5)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """`podium serve` without an engine worker (administration pages need none)."""
    yield from start_server(engine=False)


@pytest.fixture(scope="module")
def media_server() -> Iterator[Server]:
    """`podium serve` with its local engine worker."""
    yield from start_server(engine=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian's chromium is missing at {CHROMIUM}: run scripts/install-test-deps.sh", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            yield instance
        finally:
            instance.close()


def new_page(browser: Any, base_url: str) -> Any:
    """A page in a fresh context (its own storage: one person per context), with errors surfaced."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    page.errors = []  # uncaught exceptions in the page, checked by tests
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def sign_in(page: Any, email: str, password: str, company: str = COMPANY) -> None:
    page.goto("/index.html")
    page.get_by_label("Company", exact=True).fill(company)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/rooms.html")


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_panel(page: Any, name: str) -> Any:
    """Open a side panel of the meeting page ("people", "chat" or "moderation") unless it is open."""
    toggle = page.locator(f"#{name}-toggle")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    panel = page.locator(f"#panel-{name}")
    panel.wait_for(state="visible")
    return panel


def person_action(page: Any, who: str, action: str) -> None:
    """Click a moderator's action on a person: the People panel, the person's menu, then the action."""
    open_panel(page, "people")
    item = page.get_by_role("button", name=f"{action}: {who}")
    if not item.is_visible():
        page.get_by_role("button", name=f"Actions for {who}").click()
    item.click()


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def assert_accessible(page: Any, what: str) -> None:
    """axe-core (npm, run inside the page) finds no serious or critical WCAG 2 A/AA violation."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run scripts/install-test-deps.sh (npm install)", pytrace=False)
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(path=str(AXE))
    # a fade under the pointer still running would be judged at its half-transparent frame
    violations = page.evaluate("""async () => {
        const fades = document.getAnimations().filter((a) => a instanceof CSSTransition);
        await Promise.race([Promise.allSettled(fades.map((a) => a.finished)), new Promise((r) => setTimeout(r, 1000))]);
        const result = await axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] });
        return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
    }""")
    assert violations == [], f"{what}: {violations}"


def assert_fits(page: Any, what: str) -> None:
    """The page is no wider than the viewport: nothing makes it scroll sideways."""
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= page.viewport_size["width"], (
        f"{what}: {width} px wide in a {page.viewport_size['width']} px viewport"
    )


def not_allowed_contrasts(page: Any) -> list[tuple[str, float]]:
    """(text, contrast ratio) of each visible "not allowed" button (disabled or aria-disabled): its text colour
    against the first opaque background behind it, with the opacity of it and its ancestors applied."""
    return page.evaluate("""() => {
        const rgba = (text) => {
            const m = text.match(/[\\d.]+/g).map(Number);
            return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1];
        };
        const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
        const lum = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
        const mix = (top, bottom, a) => top.map((c, i) => c * a + bottom[i] * (1 - a));
        const backdrop = (el) => {
            for (let e = el; e; e = e.parentElement) {
                const c = rgba(getComputedStyle(e).backgroundColor);
                if (c[3] > 0.99) return c.slice(0, 3);
            }
            return [255, 255, 255];
        };
        return [...document.querySelectorAll('button:disabled, button[aria-disabled=true]')]
          .filter((b) => b.offsetParent !== null && b.textContent.trim())
          .map((b) => {
            let opacity = 1;
            for (let e = b; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
            const behind = backdrop(b.parentElement);
            const own = rgba(getComputedStyle(b).backgroundColor);
            const bg = own[3] > 0 ? mix(own.slice(0, 3), behind, own[3] * opacity) : behind;
            const fg = mix(rgba(getComputedStyle(b).color).slice(0, 3), bg, opacity);
            const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
            return [b.textContent.trim().replace(/\\s+/g, ' '), (hi + 0.05) / (lo + 0.05)];
          });
    }""")


SCREEN_SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def screenshot_sizes(page: Any, prefix: str, state: str) -> None:
    """Screenshots of the page's current state at a laptop's and a phone's size (`<prefix>-laptop-<state>`,
    `<prefix>-phone-<state>`), the page resized for the other one and back."""
    current = dict(page.viewport_size)
    for name, size in SCREEN_SIZES.items():
        if page.viewport_size != size:
            page.set_viewport_size(size)
            page.wait_for_timeout(400)  # the stage lays itself out again (ResizeObserver)
        screenshot(page, f"{prefix}-{name}-{state}")
    if page.viewport_size != current:
        page.set_viewport_size(current)
        page.wait_for_timeout(300)
