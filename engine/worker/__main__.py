"""One engine worker process: `python -m engine.worker --host H --port P [--control URL]`.

Prints the bound address as the first line on stdout ("host port"), forwards until SIGTERM or
SIGINT, then closes the engine and exits 0. With `--control ws://HOST:PORT/engine/v1/channel` it
also dials the control plane's engine channel (see `engine.worker.client`), authenticated by the shared
secret given by `--secret`, `--secret-file` or the PODIUM_ENGINE_SECRET environment variable (the
environment or a file keep it out of `ps`), and reconnects whenever that connection drops.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import ssl
import sys
from pathlib import Path
from typing import Any

import uvloop

from engine import Engine

SECRET_ENV = "PODIUM_ENGINE_SECRET"
CHANNEL_CLOSE_TIMEOUT = 3.0
EVENT_LOOPS = ("uvloop", "asyncio")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m engine.worker", description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.control is not None and not resolve_secret(args):
        parser.error(f"--control needs a secret: --secret, --secret-file or {SECRET_ENV}")
    if args.control_certificate is not None:
        try:
            pinned_context(args.control_certificate)
        except (OSError, ValueError) as error:
            parser.error(f"--control-certificate: {error}")
    return args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="::", help="address to bind (IPv4 or IPv6; '::' is dual-stack)")
    parser.add_argument("--port", type=int, default=0, help="UDP port (0: any free port)")
    parser.add_argument(
        "--announce",
        action="append",
        metavar="HOST",
        help="a host to give WebRTC peers as candidate (repeatable; default: the bound address)",
    )
    parser.add_argument(
        "--control",
        metavar="URL",
        help="the control plane's engine channel, e.g. ws://127.0.0.1:8000/engine/v1/channel (default: run standalone)",
    )
    parser.add_argument(
        "--control-certificate",
        type=Path,
        metavar="PEM",
        help="trust exactly this certificate (the first in the file) for a wss:// --control URL, whatever "
        "names it holds: a self-signed control plane, or this host's own (default: the system's CAs)",
    )
    parser.add_argument("--secret", help=f"the engine channel's shared secret (or {SECRET_ENV})")
    parser.add_argument("--secret-file", type=Path, help="a file holding the shared secret")
    parser.add_argument(
        "--worker-id",
        help="this worker's stable name (default: hostname:port); a worker restarted "
        "with the same id is a new process: its meetings reconnect to it",
    )
    parser.add_argument("--stats-interval", type=float, default=5.0, help="seconds between stats reports")
    parser.add_argument("--reconnect-max", type=float, default=5.0, help="longest pause between reconnections")
    parser.add_argument(
        "--pacing",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="pace each subscriber's video at 2.5 times the bandwidth the engine estimates toward it, so a "
        "layer switch up does not burst (default: on; --no-pacing sends it as it comes)",
    )
    parser.add_argument(
        "--event-loop",
        choices=EVENT_LOOPS,
        default="uvloop",
        help="the event loop the worker runs on (default: uvloop, whose wake-ups cost a fraction of "
        "asyncio's own; asyncio: for comparison and debugging)",
    )
    parser.add_argument("--log-level", default="WARNING")


def pinned_context(path: Path) -> ssl.SSLContext:
    """A TLS client context that trusts the first certificate of a PEM file and nothing else: the
    certificate is pinned, so its names are not checked (the worker dials an IP address)."""
    pem = path.read_text()
    end = "-----END CERTIFICATE-----"
    if end not in pem:
        raise ValueError(f"{path} holds no PEM certificate")
    first = pem[pem.index("-----BEGIN CERTIFICATE-----") : pem.index(end) + len(end)]
    context = ssl.create_default_context(cadata=first)
    context.check_hostname = False
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # the leaf itself is the trust anchor
    return context


def resolve_secret(args: argparse.Namespace) -> str | None:
    if args.secret:
        return str(args.secret)
    if args.secret_file is not None:
        return args.secret_file.read_text().strip() or None
    return os.environ.get(SECRET_ENV) or None


def engine_options(args: argparse.Namespace | None) -> dict[str, Any]:
    """The Engine's keyword arguments the command line sets: the announced hosts, and pacing
    (on unless --no-pacing: engine/pace.pxi, at 2.5 times each subscriber's estimate)."""
    return {
        "announced_hosts": getattr(args, "announce", None) or None,
        "pace_from_remb": bool(getattr(args, "pacing", True)),
    }


async def serve(host: str, port: int, args: argparse.Namespace | None = None) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with Engine(host=host, port=port, **engine_options(args)) as engine:
        bound_host, bound_port = engine.address
        print(f"{bound_host} {bound_port}", flush=True)
        channel_task = None
        if args is not None and args.control is not None:
            from engine.worker.client import EngineChannel

            secret = resolve_secret(args)
            assert secret is not None
            channel = EngineChannel(
                engine,
                args.control,
                secret,
                args.worker_id,
                stats_interval=args.stats_interval,
                reconnect_max=max(args.reconnect_max, 0.05),
                ssl=pinned_context(args.control_certificate) if args.control_certificate else None,
            )
            channel_task = asyncio.create_task(channel.run())
        await stop.wait()
        if channel_task is not None:
            channel_task.cancel()
            # a polite close of the channel, but never a worker that does not stop
            await asyncio.wait({channel_task}, timeout=CHANNEL_CLOSE_TIMEOUT)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    try:
        run = uvloop.run if args.event_loop == "uvloop" else asyncio.run
        run(serve(args.host, args.port, args))
    except OSError as error:
        print(f"engine worker: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
