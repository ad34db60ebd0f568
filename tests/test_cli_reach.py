"""`podium serve` and `podium engine` options of addresses, TLS, proxies, TURN and workers, parsed in
process (nothing is started), and their refusals as the command prints them."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from podium import cli

ROOT = Path(__file__).resolve().parents[1]


def reach(*argv: str) -> cli.Reach:
    parser = cli._parser()
    return cli._reach(parser, parser.parse_args(["serve", *argv]))


def refusal(*argv: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "podium.cli", *argv], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 2, result.stderr
    return result.stderr


def test_defaults_are_loopback_plain_http_no_proxy_no_turn() -> None:
    r = reach()
    assert (r.binds, r.media_bind, r.announce) == (["127.0.0.1"], "127.0.0.1", ["127.0.0.1"])
    assert (r.tls, r.forwarded_allow_ips, r.turn) == (False, None, None)
    args = cli._parser().parse_args(["serve"])
    assert args.workers == cli._cores() and args.media_port == 0


def test_binds_and_announced_addresses() -> None:
    r = reach("--bind", "127.0.0.1", "--bind", "::1", "--host", "127.0.0.1")  # --host: the old spelling
    assert r.binds == ["127.0.0.1", "::1"] and r.media_bind == "::" and r.announce == ["127.0.0.1", "::1"]
    r = reach(
        "--bind", "127.0.0.1", "--media-bind", "0.0.0.0", "--announce", "203.0.113.7", "--announce", "2001:db8::7"
    )
    assert (r.binds, r.media_bind, r.announce) == (["127.0.0.1"], "0.0.0.0", ["203.0.113.7", "2001:db8::7"])


def test_tls_proxies_and_turn(tmp_path: Path) -> None:
    cert, key, secret = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "turn-secret"
    cert.write_text("-")
    key.write_text("-")
    secret.write_text("north wind\n")
    r = reach(
        "--tls-cert",
        str(cert),
        "--tls-key",
        str(key),
        "--forwarded-allow-ips",
        "10.0.0.1, 10.1.0.0/16,::1",
        "--turn-url",
        "turn:turn.example:3478",
        "--turn-url",
        "turns:turn.example:443?transport=tcp",
        "--turn-secret-file",
        str(secret),
        "--turn-ttl",
        "3600",
    )
    assert r.tls and r.forwarded_allow_ips == "10.0.0.1,10.1.0.0/16,::1"
    assert r.turn is not None and r.turn.secret == "north wind" and r.turn.ttl == 3600
    assert r.turn.urls == ("turn:turn.example:3478", "turns:turn.example:443?transport=tcp")


@pytest.mark.parametrize(
    "argv, complaint",
    [
        (["--bind", "localhost"], "'localhost' is not an IPv4 or IPv6 address"),
        (["--media-bind", "0.0.0.0"], "give --announce"),
        (["--bind", "::"], "give --announce"),
        (["--tls-cert", "cert.pem"], "--tls-cert and --tls-key go together"),
        (["--tls-cert", "nope.pem", "--tls-key", "nope.key"], "nope.pem: no such file"),
        (["--forwarded-allow-ips", "proxy.example"], "'proxy.example' is not an address or a network"),
        (["--turn-url", "turn:turn.example"], "TURN: TURN needs the shared secret"),
        (["--turn-secret", "s"], "TURN: TURN needs at least one"),
        (["--turn-url", "stun:stun.example", "--turn-secret", "s"], "is not a turn: or turns: URL"),
        (["--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_serve_refuses_what_cannot_work(argv: list[str], complaint: str) -> None:
    assert complaint in refusal("serve", *argv)


def test_engine_refuses_a_wildcard_without_announce() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "podium.cli", "engine", "--control", "ws://127.0.0.1:1/engine/v1/channel"]
        + ["--secret", "s", "--bind", "0.0.0.0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2 and "give --announce" in result.stderr


def test_local_worker_ids() -> None:
    assert [cli.local_worker_id(i) for i in range(3)] == ["local", "local-2", "local-3"]


def test_serve_says_when_its_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "podium.cli", "serve", "--port", str(port), "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1 port {port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr
