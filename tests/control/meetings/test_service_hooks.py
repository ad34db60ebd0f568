"""The meeting service against a fake engine registry: observer hooks in commit order, chat text
checked before delivery, the revoked reason, moving a meeting off a lost worker, clearing tables a
previous control plane left, and what the application does at startup."""

import asyncio
from typing import Any

import pytest

from control.domain.moderation import Action, Command, Reason
from control.engines import Applied, WorkerConnected, WorkerInfo, WorkerLost
from control.meetings.errors import MeetingError
from control.meetings.live import Link
from control.meetings.observers import MeetingObserver
from control.meetings.service import MeetingService
from control.store.meeting_models import Meeting

V1 = "/api/v1"


class FakeRegistry:
    """Acks every batch at once; workers w1 and w2 are live."""

    def __init__(self) -> None:
        self.listeners: list[Any] = []
        self.live = ["w1", "w2"]
        self.batches: list[tuple[str, list[dict[str, Any]]]] = []
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.replaced: list[tuple[str, list[dict[str, Any]]]] = []

    def add_listener(self, listener: Any) -> None:
        self.listeners.append(listener)

    def emit(self, event: Any) -> None:
        for listener in self.listeners:
            listener(event)

    def pick_worker(self, *, exclude: Any = (), require: Any = ()) -> str:
        return [w for w in self.live if w not in set(exclude)][0]

    def workers(self) -> list[WorkerInfo]:
        return [self.worker(w) for w in self.live]

    def worker(self, worker_id: str) -> WorkerInfo:
        return WorkerInfo(worker_id, ("127.0.0.1", 1), [("127.0.0.1", 1)], [("sha-256", "AB")], ["webrtc"], True, 0,
                          {}, None)

    def table(self, worker_id: str) -> list[dict[str, Any]]:
        return self.tables.get(worker_id, [])

    async def apply(self, worker_id: str, ops: Any, *, timeout: Any = None, started: Any = None) -> Applied:
        self.batches.append((worker_id, list(ops)))
        return Applied(len(self.batches), [{"ok": True} for _ in ops], 0.0)

    async def replace_table(self, worker_id: str, ops: Any, *, timeout: Any = None) -> Applied:
        self.replaced.append((worker_id, list(ops)))
        self.tables[worker_id] = list(ops)
        return Applied(len(self.batches), [], 0.0)


class Recorder(MeetingObserver):
    """An observer that writes down every notification."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def _note(self, *call: Any) -> None:
        await asyncio.sleep(0)
        self.calls.append(call)

    async def participant_joined(self, meeting: Any, participant_id: str, person: str, name: str) -> None:
        await self._note("participant_joined", participant_id, person, name)

    async def participant_waiting(self, meeting: Any, participant_id: str, person: str | None = None,
                                  name: str = "") -> None:
        await self._note("participant_waiting", participant_id, person, name)

    async def participant_admitted(self, meeting: Any, participant_id: str) -> None:
        await self._note("participant_admitted", participant_id)

    async def role_changed(self, meeting: Any, participant_id: str, role: str) -> None:
        await self._note("role_changed", participant_id, role)

    async def participant_left(self, meeting: Any, participant_id: str, person: str, reason: str) -> None:
        await self._note("participant_left", participant_id, person, reason)

    async def source_changed(self, meeting: Any, participant_id: str, source: str, on: bool) -> None:
        await self._note("source_changed", participant_id, source, on)

    async def meeting_ended(self, meeting: Any, reason: str) -> None:
        await self._note("meeting_ended", reason)

    async def chat_message(self, meeting: Any, sender_id: str, sender_name: str, to: str | None,
                           text: str) -> None:
        await self._note("chat_message", sender_id, text)


class Socket:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None

    def link(self) -> Link:
        async def close(code: int, reason: str) -> None:
            self.closed = (code, reason)
        return Link(self.frames.append, close)

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == type_]


@pytest.fixture
async def setup(world, client):  # type: ignore[no-untyped-def]
    admin = await world.company()
    ann = await world.user(admin, name="Ann")
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Hooks", "waiting_room": True})
            ).json()
    assert (await client.put(f"{V1}/rooms/{room['id']}/access/{ann.id}", headers=admin.headers,
                             json={"role": "participant"})).status_code == 204
    registry = FakeRegistry()
    service = MeetingService(world.app.state.context, registry)  # type: ignore[arg-type]
    recorder = Recorder()
    service.add_observer(recorder)
    yield service, registry, recorder, admin, ann, room
    await service.close()


async def test_hooks_arrive_in_commit_order(setup) -> None:
    service, registry, recorder, admin, ann, room = setup
    organizer, guest = Socket(), Socket()
    live, oid = await service.join(admin.token, room["id"], organizer.link())
    _, aid = await service.join(ann.token, room["id"], guest.link())
    await service.act(live, oid, Command(Action.ADMIT, target=aid))
    await service.act(live, oid, Command(Action.APPOINT_MODERATOR, target=aid))
    await service.act(live, oid, Command(Action.SEND_BACK, target=aid))
    await service.observed()
    assert [c[0:2] for c in recorder.calls] == [
        ("participant_joined", oid), ("role_changed", oid), ("participant_waiting", aid), ("role_changed", aid),
        ("participant_admitted", aid), ("role_changed", aid), ("participant_waiting", aid), ("role_changed", aid)]
    assert recorder.calls[0][2:] == (f"u:{admin.id}", "Admin")
    assert recorder.calls[2][2:] == (f"u:{ann.id}", "Ann")  # an arrival in the waiting room names the person
    assert [c[2] for c in recorder.calls if c[0] == "role_changed"] == ["organizer", "participant", "moderator",
                                                                        "participant"]


async def test_chat_text_is_checked_before_anyone_gets_it(setup) -> None:
    service, registry, recorder, admin, ann, room = setup
    organizer = Socket()
    live, oid = await service.join(admin.token, room["id"], organizer.link())
    for text in ("nul\x00byte", " \n ", "x" * 4001):
        with pytest.raises(MeetingError) as error:
            await service.chat(live, oid, text, None)
        assert error.value.code == "invalid_chat_text" and error.value.status == 422
    assert organizer.of("chat") == [] and not [c for c in recorder.calls if c[0] == "chat_message"]
    await service.chat(live, oid, "fine\ttext\n", None)
    assert [f["text"] for f in organizer.of("chat")] == ["fine\ttext\n"]


async def test_a_revoked_guest_is_told_why(setup) -> None:
    service, registry, recorder, admin, ann, room = setup
    organizer, other = Socket(), Socket()
    live, oid = await service.join(admin.token, room["id"], organizer.link())
    _, aid = await service.join(ann.token, room["id"], other.link())
    await service.act(live, oid, Command(Action.ADMIT, target=aid))
    await service.leave(live, aid, Reason.REVOKED)
    assert other.of("disconnected")[-1]["reason"] == "revoked"
    assert organizer.of("participant-left")[-1] == {"type": "participant-left", "participant_id": aid,
                                                     "reason": "revoked"}
    await service.observed()
    assert ("participant_left", aid, f"u:{ann.id}", "revoked") in recorder.calls


async def test_a_lost_worker_moves_the_meeting_and_clients_reconnect(setup, world) -> None:
    service, registry, recorder, admin, ann, room = setup
    organizer = Socket()
    live, oid = await service.join(admin.token, room["id"], organizer.link())
    assert live.media.worker_id == "w1"
    registry.live = ["w2"]
    registry.emit(WorkerLost("w1", [live.id], []))
    for _ in range(50):
        if organizer.of("reconnect"):
            break
        await asyncio.sleep(0.01)
    assert organizer.of("reconnect") == [{"type": "reconnect", "reason": "worker_lost"}]
    assert live.media.worker_id == "w2" and live.media.peers == {}
    async with world.context() as ctx:
        assert (await ctx.session.get(Meeting, live.id)).worker_id == "w2"


async def test_tables_left_by_a_previous_control_plane_are_cleared(setup) -> None:
    service, registry, recorder, admin, ann, room = setup
    registry.tables["w2"] = [{"op": "create_router", "id": "old-meeting"}]
    registry.emit(WorkerConnected("w2", True, False))
    await asyncio.sleep(0.05)
    assert registry.replaced == [("w2", [])]
    # a worker a live meeting of this process uses keeps its table
    organizer = Socket()
    live, _ = await service.join(admin.token, room["id"], organizer.link())
    registry.tables["w1"] = [{"op": "create_router", "id": live.id}]
    registry.emit(WorkerConnected("w1", False, False))
    await asyncio.sleep(0.05)
    assert registry.replaced == [("w2", [])]


async def test_startup_ends_meetings_a_previous_process_left_running(world, client) -> None:
    from control.app import create_app

    admin = await world.company()
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Old"})).json()
    async with world.context() as ctx:
        meeting = Meeting(company_id=admin.company_id, room_id=room["id"], opened_by=admin.id,
                          started_at=ctx.now(), worker_id="w")
        ctx.session.add(meeting)
        await ctx.session.commit()
        meeting_id = meeting.id
    async with world.context() as ctx:
        settings = ctx.settings
    app = create_app(settings)  # the same database, opened again as after a restart
    async with app.router.lifespan_context(app):
        async with app.state.context() as ctx:
            row = await ctx.session.get(Meeting, meeting_id)
            assert row.ended_at is not None and row.end_reason == "control_plane_restarted"


async def test_metrics_show_moderation_latency(client) -> None:
    text = (await client.get("/metrics")).text
    assert "podium_engine_apply_seconds_count" in text and "podium_moderation_seconds_count" in text
