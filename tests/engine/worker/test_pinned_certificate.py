"""`--control-certificate`: the worker trusts exactly that certificate for a wss:// control plane,
whatever names it holds, and no other (not even one for the same names)."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from pathlib import Path

import pytest

from engine.worker.__main__ import parse_args, pinned_context


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-subj", "/CN=podium.test", "-days", "1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


async def handshake(server_cert: Path, server_key: Path, client: ssl.SSLContext) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server_cert, server_key)
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client)
        writer.close()
    finally:
        server.close()


async def test_the_pinned_certificate_and_no_other(tmp_path: Path) -> None:
    server_cert, server_key = self_signed(tmp_path, "server")
    other_cert, _ = self_signed(tmp_path, "other")  # the same name, another key
    await handshake(server_cert, server_key, pinned_context(server_cert))  # dialled by IP: no name check
    with pytest.raises(ssl.SSLCertVerificationError):
        await handshake(server_cert, server_key, pinned_context(other_cert))
    # a chain file: the first certificate is the pin, the rest is not trusted
    chain = tmp_path / "chain.pem"
    chain.write_text(other_cert.read_text() + server_cert.read_text())
    with pytest.raises(ssl.SSLCertVerificationError):
        await handshake(server_cert, server_key, pinned_context(chain))


def test_a_file_without_a_certificate_is_refused(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("nothing here\n")
    with pytest.raises(SystemExit):
        parse_args(["--control", "wss://127.0.0.1:1/x", "--secret", "s", "--control-certificate", str(empty)])
    assert "--control-certificate" in capsys.readouterr().err
