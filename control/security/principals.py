"""Resolved principals, cached in this process for a few seconds and dropped on every change that
could alter one.

Resolving a bearer credential costs three store reads (login session or API key, user, permissions).
The cache maps a login session id (`s:<id>`) or an API key digest (`k:<sha-256>`) to the principal
it resolved to. The credential itself is checked on every request before the cache is consulted
(an access token's signature and expiry; an API key is looked up by its digest, which only its
holder can present).

Invalidation does not depend on each service remembering to call it: the cache listens to its
database engine. Any INSERT, UPDATE or DELETE that names a table a principal is read from
(`AUTH_TABLES`: login sessions, users, permissions, API keys, companies), from whichever service
or layer (logout, password change, the meetings' RevokeTokens, a permission grant or revocation, a
user edited or deleted, an API key revoked), empties the cache when it executes, and no principal is
stored again until the connection that wrote is handed back to the pool, that is after its commit or
rollback; the cache is emptied once more then. A request that read the store before the change
committed therefore cannot store what it read: every change is honoured by the next request after
the call that made it returns. A write tagged with the execution option `NEUTRAL` (an API key's
last-use time) changes no principal and invalidates nothing.

Another control-plane process on the same PostgreSQL database (a replica) changes principals this
process cannot see being written: there the cache is `shared`, emptied on every notification of a
change the database sends (control.replicas.invalidation), and caches nothing while it cannot hear
them. On SQLite (one process) entries also expire after `TTL_SECONDS`.
"""

from __future__ import annotations

import math
import re
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from control.types import Principal

TTL_SECONDS = 2.0
"""How long a resolved principal is reused when the cache is not `shared`."""
MAX_ENTRIES = 10_000
LAST_USE_INTERVAL = 60.0
"""An API key's last use is written at most this often (seconds) while its principal is cached."""

AUTH_TABLES = frozenset({"auth_sessions", "users", "user_permissions", "api_keys", "companies"})
"""Every table `control.services.auth.authenticate` reads a principal from."""
NEUTRAL = "podium_principal_neutral"
"""Execution option of a write that changes no principal."""

_WRITE = re.compile(r"\s*(insert|update|delete|replace|upsert|merge)\b", re.IGNORECASE)
_NAMES = re.compile(r"\b(" + "|".join(sorted(AUTH_TABLES)) + r")\b", re.IGNORECASE)


def changes_principals(statement: str) -> bool:
    """Whether a SQL statement may change a principal: a write that names a table of AUTH_TABLES."""
    return _WRITE.match(statement) is not None and _NAMES.search(statement) is not None


class PrincipalCache:
    """Principals of one database, by credential key. Not thread-safe: used from the event loop's
    thread, where SQLAlchemy's asyncio layer also runs its engine events."""

    def __init__(self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._generation = 0
        self._writing: set[Any] = set()
        """Pool connection records inside a transaction that changed an auth table (until returned)."""
        self._last_use: dict[str, float] = {}
        self.hits = 0
        self.misses = 0

    # ---- lookups ---------------------------------------------------------------------------------

    def get(self, key: str) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None or entry[1] <= self.clock():
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return None
        self.hits += 1
        return entry[0]

    def ticket(self) -> int:
        """Taken before reading the store; `put` refuses the result if anything changed meanwhile."""
        return self._generation

    def put(self, key: str, principal: Principal, ticket: int) -> None:
        if ticket != self._generation or self._writing or self.ttl <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            now = self.clock()
            self._entries = {k: e for k, e in self._entries.items() if e[1] > now}
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
        self._entries[key] = (principal, self.clock() + self.ttl)

    def invalidate(self) -> None:
        """Forget every principal, and refuse those being read from the store right now."""
        self._generation += 1
        self._entries.clear()
        self._last_use.clear()

    def shared(self, listening: bool) -> None:
        """Principals of a database other processes write too: kept until a change is notified
        while `listening`, not cached at all while not. Empties the cache either way."""
        self.invalidate()
        self.ttl = math.inf if listening else 0.0

    def __len__(self) -> int:
        return len(self._entries)

    def last_use_due(self, key_id: str) -> bool:
        """Whether an API key's last use should be written now (and notes that it is)."""
        now = self.clock()
        last = self._last_use.get(key_id)
        if last is not None and now - last < LAST_USE_INTERVAL:
            return False
        if len(self._last_use) >= MAX_ENTRIES:
            self._last_use.clear()
        self._last_use[key_id] = now
        return True

    # ---- engine events -------------------------------------------------------------------------

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "after_cursor_execute", self._executed)
        for name in ("checkin", "reset", "invalidate", "soft_invalidate", "close", "detach"):
            event.listen(engine, name, self._released)

    def _executed(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if not changes_principals(statement):
            return
        options = context.execution_options if context is not None else conn.get_execution_options()
        if options.get(NEUTRAL):
            return
        proxied = conn.connection
        record = getattr(proxied, "_connection_record", None)  # what the pool events name
        self._writing.add(record if record is not None else proxied.dbapi_connection)
        self.invalidate()

    def _released(self, dbapi_connection: Any, record: Any, *args: Any) -> None:
        if not self._writing:
            return
        # the record is handed back after its transaction ended: what it wrote is committed (or undone)
        if record in self._writing or dbapi_connection in self._writing:
            self._writing.discard(record)
            self._writing.discard(dbapi_connection)
            self.invalidate()


_caches: weakref.WeakKeyDictionary[Engine, PrincipalCache] = weakref.WeakKeyDictionary()


def for_engine(engine: AsyncEngine | Engine) -> PrincipalCache:
    """The cache of a database engine, listening to it from its first use."""
    sync = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    cache = _caches.get(sync)
    if cache is None:
        cache = _caches[sync] = PrincipalCache()
        cache.attach(sync)
    return cache


def for_session(session: AsyncSession) -> PrincipalCache | None:
    """The cache of the engine a session is bound to (None when it is bound to no single engine)."""
    bind = session.bind
    if isinstance(bind, AsyncEngine | Engine):
        return for_engine(bind)
    return None
