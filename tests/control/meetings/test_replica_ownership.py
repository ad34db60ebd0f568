"""Two meeting services as two control-plane replicas on one PostgreSQL database, each with its own
(fake) workers (control.replicas.ownership): the lease sends joins to the owner, an expired lease is
taken over with the meeting as it was, and the previous owner's writes are fenced off: its next change
is refused and it stops the meeting. And a notice from another replica (a suspended company) reaches
the meetings this one runs."""

from __future__ import annotations

import asyncio

import pytest
from meeting_fakes import FakeRegistry, Socket
from sqlalchemy import text

from control.domain.moderation import Action, Command
from control.domain.roles import Capability, Role
from control.meetings.errors import MeetingElsewhere, MeetingError
from control.meetings.service import CLOSE_RESTARTING, MeetingService
from control.replicas import notice_actions, notices
from control.replicas.invalidation import Notifications
from control.replicas.notices import Notice
from control.replicas.ownership import Replica
from control.security.principals import PrincipalCache
from control.store.db import create_sessionmaker

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


async def _replica(world, name: str) -> tuple[MeetingService, Replica]:  # type: ignore[no-untyped-def]
    ownership = Replica(create_sessionmaker(world.app.state.engine), f"https://{name}.example", ttl=30)
    service = MeetingService(world.app.state.context, FakeRegistry(), ownership=ownership)  # type: ignore[arg-type]
    await service.restore(5.0)
    return service, ownership


async def _expire(world, room_id: str) -> None:
    """The owner stopped renewing (it died): its lease ran out."""
    async with world.app.state.context() as ctx:
        await ctx.session.execute(
            text("UPDATE meeting_leases SET expires_at = now() - interval '1 second' WHERE room_id = :room"),
            {"room": room_id},
        )
        await ctx.session.commit()


async def _until(condition, steps: int = 300) -> bool:  # type: ignore[no-untyped-def]
    for _ in range(steps):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return False


async def test_leases_send_joins_to_the_owner_and_a_dead_owners_meeting_is_taken_over(meetings, world) -> None:
    a, lease_a = await _replica(world, "a")
    b, lease_b = await _replica(world, "b")
    room = meetings.room["id"]
    try:
        organizer = Socket()
        live, oid = await a.join(meetings.admin.token, room, organizer.link())
        with pytest.raises(MeetingElsewhere) as elsewhere:
            await b.join(meetings.ann.token, room, Socket().link())
        assert elsewhere.value.owner_url == "https://a.example"
        assert b.meeting_of_room(room) is None
        assert await lease_b.owner_url(room) == "https://a.example" and await lease_a.owner_url(room) is None
        ann = Socket()
        _, aid = await a.join(meetings.ann.token, room, ann.link())
        await a.act(live, oid, Command(Action.ADMIT, target=aid))
        await a.act(live, oid, Command(Action.REVOKE_PERMISSION, target=aid, capability=Capability.CHAT))
        assert await lease_b.take_over_expired() == [], "a's lease holds"

        await _expire(world, room)
        assert await lease_b.take_over_expired() == [room]
        taken = b.meeting_of_room(room)
        assert taken is not None and taken.id == live.id and taken.state == live.state
        assert taken.state.get(oid).role is Role.ORGANIZER and not taken.state.get(aid).holds(Capability.CHAT)
        assert await _until(taken.ready.is_set)
        assert await lease_a.owner_url(room) == "https://b.example"

        # a is alive after all (it was only cut off): its next change is refused, and it stops the meeting
        with pytest.raises(MeetingError) as fenced:
            await a.act(live, oid, Command(Action.START_PRESENTER_MODE))
        assert fenced.value.code == "store_unavailable"
        assert await _until(lambda: a.meeting(live.id) is None)
        assert organizer.closed is not None and organizer.closed[0] == CLOSE_RESTARTING
        # and what a refused is not in the database: b changes the meeting from where it was
        assert not taken.state.presenter_mode
        organizer_again = Socket()
        back = await b.join(
            meetings.admin.token, room, organizer_again.link(), resume=organizer.of("joined")[0]["resume_token"]
        )
        assert back == (taken, oid)
        await b.act(taken, oid, Command(Action.START_PRESENTER_MODE))
        assert taken.state.presenter_mode
    finally:
        for service, ownership in ((a, lease_a), (b, lease_b)):
            await service.close()
            await ownership.close()


async def test_a_renewal_that_finds_the_lease_taken_stops_the_meeting_here(meetings, world) -> None:
    a, lease_a = await _replica(world, "a")
    b, lease_b = await _replica(world, "b")
    room = meetings.room["id"]
    try:
        socket = Socket()
        live, _ = await a.join(meetings.admin.token, room, socket.link())
        await lease_a.renew()
        assert a.meeting(live.id) is live
        await _expire(world, room)
        assert await lease_b.take_over_expired() == [room]
        await lease_a.renew()
        assert a.meeting(live.id) is None and socket.closed is not None
        assert b.meeting(live.id) is not None
    finally:
        for service, ownership in ((a, lease_a), (b, lease_b)):
            await service.close()
            await ownership.close()


async def test_a_refused_join_gives_the_lease_back_and_an_ended_meeting_deletes_it(meetings, world) -> None:
    a, lease_a = await _replica(world, "a")
    b, lease_b = await _replica(world, "b")
    room = meetings.room["id"]
    try:
        a.registry.live = []  # type: ignore[attr-defined]
        with pytest.raises(MeetingError) as refused:  # claimed the room, then no worker to open it on
            await a.join(meetings.admin.token, room, Socket().link())
        assert refused.value.code == "engine_unavailable"
        assert await lease_b.owner_url(room) is None
        a.registry.live = ["w1", "w2"]  # type: ignore[attr-defined]
        live, oid = await b.join(meetings.admin.token, room, Socket().link())
        assert await lease_a.owner_url(room) == "https://b.example"
        await b.act(live, oid, Command(Action.END_MEETING))
        assert await _until(lambda: b.meeting(live.id) is None)
        await asyncio.sleep(0.1)
        assert await lease_a.owner_url(room) is None
        again, _ = await a.join(meetings.admin.token, room, Socket().link())
        assert again.id != live.id
    finally:
        for service, ownership in ((a, lease_a), (b, lease_b)):
            await service.close()
            await ownership.close()


async def test_a_notice_from_another_replica_ends_the_meetings_of_a_suspended_company(meetings, world) -> None:
    a, lease_a = await _replica(world, "a")
    b, lease_b = await _replica(world, "b")
    listener = Notifications(
        world.app.state.engine.url.render_as_string(hide_password=False),
        PrincipalCache(),
        {notices.CHANNEL: lambda payload: notice_actions.received(a, payload)},
    )
    await listener.start()
    try:
        socket = Socket()
        live, _ = await a.join(meetings.admin.token, meetings.room["id"], socket.link())
        await lease_b.tell(Notice.REVOKED_INVITATION, "0" * 32)  # nobody of that invitation here
        await lease_b.tell(Notice.END_COMPANY, "another company")
        await asyncio.sleep(0.2)
        assert a.meeting(live.id) is live
        await lease_b.tell(Notice.END_COMPANY, live.company_id)  # suspended through b
        assert await _until(lambda: a.meeting(live.id) is None)
        assert socket.of("disconnected")[-1]["reason"] == "company_suspended"
    finally:
        await listener.close()
        for service, ownership in ((a, lease_a), (b, lease_b)):
            await service.close()
            await ownership.close()


def test_notices_are_parsed_strictly() -> None:
    assert notices.parse(notices.payload(Notice.END_COMPANY, "c1")) == (Notice.END_COMPANY, "c1")
    for bad in (
        "",
        "{}",
        "[]",
        '{"kind":"drop_tables","id":"x"}',
        '{"kind":"end_company","id":7}',
        '{"kind":"end_company","id":""}',
        '{"kind":"end_company","id":"' + "x" * 65 + '"}',
        "nope",
    ):
        assert notices.parse(bad) is None, bad
