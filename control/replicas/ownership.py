"""Which meetings this control-plane process runs.

`Sole`: the only process on its database (SQLite): it runs every meeting, as before replicas.

`Replica` (PostgreSQL): one of several `podium serve` processes on one database. A room's meeting
runs on the replica holding the room's lease (control.replicas.leases). This replica

- claims a room's lease before it opens or takes over the room's meeting, and sends a join for a room
  another live replica holds to that replica (`MeetingElsewhere`, with its public URL);
- renews its leases every third of their time to live, and stops a meeting whose lease another
  replica took meanwhile (it could not renew in time): its sockets close with 1012, its clients
  resume and are sent to the new owner;
- scans for other replicas' expired leases (a replica that died) and takes their meetings over from
  their documents (control.meetings.durable.restore.Restore.take_over);
- fences every write of a meeting's documents: the write renews the lease in the same transaction,
  and fails (the change does not happen) if the lease is no longer this replica's;
- expires its leases when it stops, so that the others take its meetings at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from control.meetings.errors import MeetingElsewhere
from control.replicas import leases, notices
from control.replicas.notices import Notice
from control.replicas.store import Leases

if TYPE_CHECKING:
    from control.meetings.service import MeetingService

log = logging.getLogger("podium.replicas")

SCAN_SECONDS = 1.0
"""How often a replica looks for expired leases of others."""


class LeaseLost(Exception):
    """A meeting's write found its lease held by another replica: this replica no longer runs it."""


class Sole:
    """The only control plane on its database: every meeting is its own."""

    replica = "sole"

    def bind(self, service: MeetingService) -> None:
        pass

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def arrive(self, room_id: str) -> None:
        pass

    async def claim(self, room_id: str) -> bool:
        return True

    async def fence(self, session: AsyncSession, room_id: str) -> None:
        pass

    async def release(self, session: AsyncSession, room_id: str) -> None:
        pass

    async def unclaim(self, room_id: str) -> None:
        pass

    async def owner_url(self, room_id: str) -> str | None:
        return None

    async def tell(self, kind: Notice, subject: str) -> None:
        """Ask every replica to act on the meetings it runs (control.replicas.notices)."""


class Replica(Sole):
    def __init__(
        self,
        sessions: Callable[[], contextlib.AbstractAsyncContextManager[AsyncSession]],
        url: str,
        ttl: float,
        *,
        scan: float = SCAN_SECONDS,
        replica: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.url = url.rstrip("/")
        """This replica's public base URL, announced in its leases."""
        self.ttl = ttl
        self.scan = scan
        self.replica = replica or "r-" + secrets.token_hex(8)
        self.service: MeetingService | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def bind(self, service: MeetingService) -> None:
        self.service = service

    @contextlib.asynccontextmanager
    async def _leases(self) -> AsyncIterator[Leases]:
        async with self.sessions() as session:
            yield Leases(session, self.replica, self.url, self.ttl)
            await session.commit()

    async def start(self) -> None:
        log.info(
            "replica %s (%s): leases of %g s, renewed every %g s",
            self.replica,
            self.url,
            self.ttl,
            leases.renew_interval(self.ttl),
        )
        self._tasks = [asyncio.ensure_future(self._renewing()), asyncio.ensure_future(self._scanning())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            async with self._leases() as store:
                await store.hand_back()

    # ---- joins --------------------------------------------------------------------------------

    def _service(self) -> MeetingService:
        assert self.service is not None, "Replica.bind was not called"
        return self.service

    async def arrive(self, room_id: str) -> None:
        """A join names the room, whose meeting this replica does not hold: claim the room (taking
        over the meeting its previous owner left running), or MeetingElsewhere."""
        async with self._leases() as store:
            lease, now = await store.get(room_id), await store.now()
        decision = leases.arrival(lease, self.replica, now, hosted_here=False)
        if decision is leases.Arrival.REDIRECT:
            assert lease is not None
            raise MeetingElsewhere(lease.owner_url)
        if not await self.claim(room_id):
            async with self._leases() as store:  # another replica won the race: it is there
                lease = await store.get(room_id)
            raise MeetingElsewhere(lease.owner_url if lease is not None else self.url)
        restorer = self._service().restorer
        if restorer is not None:
            await restorer.take_over(room_id)

    async def claim(self, room_id: str) -> bool:
        async with self._leases() as store:
            return await store.claim(room_id)

    async def unclaim(self, room_id: str) -> None:
        """A join that claimed the room opened no meeting (refused): the lease goes."""
        if self._service().meeting_of_room(room_id) is not None:
            return
        with contextlib.suppress(Exception):
            async with self._leases() as store:
                await store.release(room_id)

    async def owner_url(self, room_id: str) -> str | None:
        """The public URL of the other live replica running the room's meeting, if one does."""
        async with self._leases() as store:
            lease, now = await store.get(room_id), await store.now()
        if lease is None or lease.owner == self.replica or not leases.live(lease, now):
            return None
        return lease.owner_url

    async def tell(self, kind: Notice, subject: str) -> None:
        try:
            async with self.sessions() as session:
                await session.execute(
                    text("SELECT pg_notify(:channel, :payload)"),
                    {"channel": notices.CHANNEL, "payload": notices.payload(kind, subject)},
                )
                await session.commit()
        except Exception as error:  # the change stands; other replicas act on it at the next join
            log.warning("replica %s could not notify %s %s: %s", self.replica, kind, subject, error)

    # ---- writes -------------------------------------------------------------------------------

    async def fence(self, session: AsyncSession, room_id: str) -> None:
        """In the transaction of a write of the room's meeting: renew its lease, or LeaseLost."""
        store = Leases(session, self.replica, self.url, self.ttl)
        if room_id not in await store.renew([room_id]):
            raise LeaseLost(f"room {room_id}: the lease is another replica's")

    async def release(self, session: AsyncSession, room_id: str) -> None:
        """In the transaction that ends the room's meeting: its lease goes."""
        await Leases(session, self.replica, self.url, self.ttl).release(room_id)

    # ---- background ---------------------------------------------------------------------------

    async def _renewing(self) -> None:
        while True:
            await asyncio.sleep(leases.renew_interval(self.ttl))
            try:
                await self.renew()
            except Exception as error:  # the database is away: the meetings run on, fenced
                log.warning("replica %s could not renew its leases: %s", self.replica, error)

    async def renew(self) -> None:
        service = self._service()
        hosted = {live.room_id: live for live in list(service.live.values())}
        if not hosted:
            return
        async with self._leases() as store:
            renewed = await store.renew(hosted)
        for room_id in leases.lost(set(hosted), renewed):
            live = hosted[room_id]
            if service.live.get(live.id) is live:
                log.error("meeting %s: another replica holds room %s now; it stops here", live.id, room_id)
                await service.drop(live)

    async def _scanning(self) -> None:
        while True:
            await asyncio.sleep(self.scan)
            try:
                await self.take_over_expired()
            except Exception as error:
                log.warning("replica %s could not look for expired leases: %s", self.replica, error)

    async def take_over_expired(self) -> list[str]:
        """Claim other replicas' expired leases and take their meetings over; the rooms taken."""
        service = self._service()
        async with self._leases() as store:
            all_leases, now = await store.all(), await store.now()
        taken = []
        for room_id in leases.takeovers(all_leases, self.replica, now, set(service.rooms())):
            async with service.opening(room_id):
                if service.meeting_of_room(room_id) is not None or not await self.claim(room_id):
                    continue
                restorer = service.restorer
                if restorer is None or await restorer.take_over(room_id) is None:
                    await self.unclaim(room_id)  # no meeting runs there any more
                    continue
                taken.append(room_id)
        return taken
