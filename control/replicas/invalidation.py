"""Principal caches kept fresh across replicas by PostgreSQL notifications (and the other notices
replicas send each other, control.replicas.notices, on the same connection).

Every statement that writes a table a principal is read from notifies the channel
`podium_principals` when its transaction commits (triggers of migration 0008). Each replica keeps
one asyncpg connection LISTENing there and empties its cache on every notification, whichever
replica (or tool) wrote: a permission revoked through one replica is refused through every other as
soon as the notification arrives (milliseconds), and cached principals need no expiry meanwhile.

While that connection is down nothing is cached (every request reads the store), and the cache is
emptied again once it is back, since notifications sent meanwhile are lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from control.security.principals import PrincipalCache

log = logging.getLogger("podium.replicas")

CHANNEL = "podium_principals"
"""Notified by the triggers of migration 0008."""
CHECK_SECONDS = 2.0
"""How often the listening connection is checked (a dead peer is not always reported at once)."""
RETRY_SECONDS = 1.0


def asyncpg_dsn(url: str) -> str:
    """The plain libpq URL asyncpg takes, from the database URL SQLAlchemy uses."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Notifications:
    """Listens for principal changes and empties `cache` on each; `handlers`: channel → what to do
    with each payload notified there."""

    def __init__(self, url: str, cache: PrincipalCache, handlers: Mapping[str, Callable[[str], None]] = {}) -> None:
        self.dsn = asyncpg_dsn(url)
        self.cache = cache
        self.handlers = dict(handlers)
        self.notifications = 0
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 5.0) -> None:
        """Start listening; waits (up to `timeout`) for the first connection, so that a replica
        serves no cached principal before it hears of changes."""
        self.cache.shared(False)
        self._task = asyncio.ensure_future(self._listen())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _notified(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self.notifications += 1
        self.cache.invalidate()

    async def _listen(self) -> None:
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(self.dsn)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
                await connection.add_listener(CHANNEL, self._notified)
                for channel, handler in self.handlers.items():
                    await connection.add_listener(channel, lambda *args, handler=handler: handler(args[-1]))
                self.cache.shared(True)  # empties it: changes made while not listening are unknown
                self._connected.set()
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), CHECK_SECONDS)
                    if not lost.is_set():
                        await asyncio.wait_for(connection.execute("SELECT 1"), CHECK_SECONDS)
                log.warning("the principal notifications connection closed; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("cannot listen for principal changes (%s); principals are not cached meanwhile", error)
            finally:
                self._connected.clear()
                self.cache.shared(False)
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(connection.close(), 1)
            await asyncio.sleep(RETRY_SECONDS)
