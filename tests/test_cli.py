"""The `podium` command: bootstrap, and serve end to end as a subprocess."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from podium import cli
from podium.cli import slugify

PODIUM = [sys.executable, "-m", "podium.cli"]
ROOT = Path(__file__).resolve().parents[1]


def podium(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PODIUM, *args], capture_output=True, text=True, cwd=ROOT, timeout=60, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_podium_help_lists_serve_and_bootstrap():
    result = podium("--help")
    assert result.returncode == 0
    assert "serve" in result.stdout and "bootstrap" in result.stdout


def test_slugify():
    assert slugify("Acme GmbH & Co. KG") == "acme-gmbh-co-kg"
    assert slugify("!!!") == "company"


def test_bootstrap_creates_the_first_company_once(tmp_path):
    args = [
        "bootstrap",
        "--company",
        "Acme GmbH",
        "--email",
        "admin@acme.example",
        "--password",
        "admin password",
        "--data-dir",
        str(tmp_path),
    ]
    first = podium(*args)
    assert first.returncode == 0, first.stderr
    assert "company acme-gmbh" in first.stdout and (tmp_path / "podium.db").exists()
    second = podium(*args)
    assert second.returncode == 1 and "a company with the slug 'acme-gmbh' exists already" in second.stderr


def test_bootstrap_validates_its_options(tmp_path):
    bad_email = podium(
        "bootstrap", "--company", "A", "--email", "nope", "--password", "admin password", "--data-dir", str(tmp_path)
    )
    assert bad_email.returncode == 2 and "--email" in bad_email.stderr
    short = podium(
        "bootstrap", "--company", "A", "--email", "a@b.cd", "--password", "short", "--data-dir", str(tmp_path)
    )
    assert short.returncode == 2 and "--password" in short.stderr
    assert not (tmp_path / "podium.db").exists()


class Server:
    """`podium serve` in a subprocess, with its log collected."""

    def __init__(self, data_dir: Path, *extra: str):
        self.port = free_port()
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [*PODIUM, "serve", "--port", str(self.port), "--data-dir", str(data_dir), *extra],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail("podium serve exited:\n" + "".join(self.lines))
            try:
                if httpx.get(f"{self.url}/api/v1/openapi.json", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail("podium serve did not answer:\n" + "".join(self.lines))

    def stop(self) -> int:
        """Stop the server, then close its output pipe once the reader has seen its end."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._reader.join(timeout=10)
            assert self.process.stdout is not None
            self.process.stdout.close()


def test_serve_bootstrap_login_and_stop(tmp_path):
    server = Server(tmp_path)
    try:
        server.wait_ready()
        result = podium(
            "bootstrap",
            "--company",
            "Acme",
            "--email",
            "admin@acme.example",
            "--password",
            "admin password",
            "--data-dir",
            str(tmp_path),
        )
        assert result.returncode == 0, result.stderr
        tokens = httpx.post(
            f"{server.url}/api/v1/auth/login",
            timeout=10,
            json={"company": "acme", "email": "admin@acme.example", "password": "admin password"},
        )
        assert tokens.status_code == 200, tokens.text
        me = httpx.get(
            f"{server.url}/api/v1/me", timeout=10, headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}
        )
        assert me.json()["email"] == "admin@acme.example"
    finally:
        status = server.stop()
    log = "".join(server.lines)
    assert status == 0, log
    # one worker per core by default, each stopped with the server
    workers = [f"local-{n}" if n > 1 else "local" for n in range(1, cli._cores() + 1)]
    assert "Podium is ready: browsers reach it at http://127.0.0.1:" in log, log
    for worker in workers:
        assert f"engine worker {worker} (pid" in log and f"engine worker {worker} stopped" in log, log
        worker_pid = int(log.split(f"engine worker {worker} (pid ")[1].split(")")[0])
        with pytest.raises(ProcessLookupError):
            os.kill(worker_pid, 0)
    assert "listening on 127.0.0.1" in log and "beyond this host" not in log, log


def test_serve_without_engine(tmp_path):
    server = Server(tmp_path, "--no-engine")
    try:
        server.wait_ready()
    finally:
        assert server.stop() == 0
    assert "engine worker" not in "".join(server.lines)


def serve_limits(argv: list[str], environ: dict[str, str] | None = None):
    """The limits `podium serve ARGV` would run with (parsed in process: nothing is started)."""
    from podium import cli

    parser = cli._parser()
    args = parser.parse_args(["serve", *argv])
    old = os.environ.get(cli.RATE_LIMITS_ENV)
    os.environ.pop(cli.RATE_LIMITS_ENV, None)
    os.environ.update(environ or {})
    try:
        return cli._limits(parser, args)
    finally:
        os.environ.pop(cli.RATE_LIMITS_ENV, None)
        if old is not None:
            os.environ[cli.RATE_LIMITS_ENV] = old


def test_serve_takes_its_limits_from_options_and_the_environment():
    from control.settings import Limits

    assert serve_limits([]) == Limits()
    limits = serve_limits(
        [
            "--max-body",
            "1000",
            "--max-body-unauthenticated",
            "100",
            "--max-frame",
            "5000",
            "--rate-limit",
            "login=5 per 10 seconds",
            "--rate-limit",
            "join=off",
        ],
        {"PODIUM_RATE_LIMITS": "login=1/hour,frames=10/second"},
    )
    assert (limits.max_body, limits.max_body_unauthenticated, limits.max_frame) == (1000, 100, 5000)
    assert limits.login == "5 per 10 seconds"  # the command line wins over the environment
    assert limits.join is None and limits.frames == "10/second" and limits.refresh == Limits().refresh


@pytest.mark.parametrize(
    "argv, complaint",
    [
        (["--rate-limit", "logins=5/minute"], "unknown rate limit 'logins'"),
        (["--rate-limit", "login=often"], "is not a rate"),
        (["--max-body", "0"], "--max-body must be at least 1"),
        (["--worker-capacity", "0"], "0 must be at least 1"),
        (["--worker-capacity", "many"], "'many' is not a whole number"),
        (["--pipe-srtp", "sometimes"], "invalid choice: 'sometimes'"),
    ],
)
def test_serve_refuses_bad_limits(argv, complaint):
    result = podium("serve", *argv)
    assert result.returncode == 2 and complaint in result.stderr


def test_serve_refuses_webtransport_without_tls():
    result = podium("serve", "--webtransport-port", "4433")
    assert result.returncode == 2 and "--webtransport-port needs --tls-cert and --tls-key" in result.stderr


def test_serve_refuses_dev_certificate_without_webtransport():
    result = podium("serve", "--dev-certificate")
    assert result.returncode == 2 and "--dev-certificate is for --webtransport-port" in result.stderr


def test_serve_spanning_options():
    from podium import cli

    args = cli._parser().parse_args(["serve"])
    assert (args.worker_capacity, args.pipe_srtp) == (None, "between-hosts")  # a meeting stays on one worker
    args = cli._parser().parse_args(["serve", "--worker-capacity", "40", "--pipe-srtp", "always"])
    assert (args.worker_capacity, args.pipe_srtp) == (40, "always")
