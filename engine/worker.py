"""One engine worker process: `python -m engine.worker --host H --port P`.

Prints the bound address as the first line on stdout ("host port"), forwards until SIGTERM or
SIGINT, then closes the engine and exits 0. The engine channel to the control plane comes later.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from engine import Engine


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m engine.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="::", help="address to bind (IPv4 or IPv6; '::' is dual-stack)")
    parser.add_argument("--port", type=int, default=0, help="UDP port (0: any free port)")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with Engine(host=host, port=port) as engine:
        bound_host, bound_port = engine.address
        print(f"{bound_host} {bound_port}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    try:
        asyncio.run(serve(args.host, args.port))
    except OSError as error:
        print(f"engine worker: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
