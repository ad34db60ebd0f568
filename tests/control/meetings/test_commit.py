"""The commit pipeline: a change takes effect only once the engine acked it. With a worker that
refuses, or one that does not answer, every kind of commit (join, publish, subscribe answer, each
moderation action, leave) leaves the meeting as it was: the old state and media records stand,
nothing is persisted or told, the caller gets the error, and the worker is resynced to the table
the kept records describe."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from meeting_fakes import Socket, audio_offer, subscriber_answer

from control.domain.moderation import Action, Command
from control.domain.roles import Capability, Role, Source
from control.meetings.errors import MeetingError
from control.meetings.live import LiveMeeting
from control.store.repositories.meetings import MeetingStore

CODES = {"refuse": ("engine_refused", 502), "timeout": ("engine_timeout", 504)}
MIC = Source.MICROPHONE


class Scene:
    """The organizer O and Ann (A) admitted, both publishing a live microphone, each subscribed to
    the other's (subscribe offers answered)."""

    def __init__(self, meetings: Any) -> None:
        self.m = meetings
        self.service, self.registry = meetings.service, meetings.registry
        self.o_socket, self.a_socket = Socket(), Socket()

    async def setup(self) -> None:
        service, room = self.service, self.m.room["id"]
        self.live, self.o = await service.join(self.m.admin.token, room, self.o_socket.link())
        live: LiveMeeting = self.live
        _, self.a = await service.join(self.m.ann.token, room, self.a_socket.link())
        await service.act(live, self.o, Command(Action.ADMIT, target=self.a))
        await service.publish(live, self.o, audio_offer(1111), {"0": MIC}, frozenset())
        await service.publish(live, self.a, audio_offer(2222), {"0": MIC}, frozenset())
        for pid, socket in ((self.o, self.o_socket), (self.a, self.a_socket)):
            offer = socket.of("subscribe-offer")[-1]
            await service.subscribe_answer(live, pid, offer["version"], subscriber_answer(offer["sdp"]))

    async def fails(self, mode: str, change: Callable[[], Awaitable[Any]]) -> None:
        """`change` fails with the engine error of `mode`, and nothing changed."""
        live, registry = self.live, self.registry
        state, records = live.state, live.media.records
        batches, told = len(registry.batches), (len(self.o_socket.frames), len(self.a_socket.frames))
        registry.fail = mode
        try:
            with pytest.raises(MeetingError) as error:
                await change()
        finally:
            registry.fail = None
        assert len(registry.batches) == batches + 1
        assert (error.value.code, error.value.status) == CODES[mode]
        assert live.state is state and live.media.records is records
        assert self.service.meeting(live.id) is live
        assert (len(self.o_socket.frames), len(self.a_socket.frames)) == told
        assert (await registry.resynced())[-1] == ("w1", live.media.table(records))
        async with self.m.service.context() as ctx:
            assert await MeetingStore(ctx.session).removals(live.room_id, ctx.now()) == []


@pytest.fixture
async def scene(meetings) -> Scene:  # type: ignore[no-untyped-def]
    scene = Scene(meetings)
    await scene.setup()
    return scene


@pytest.fixture(params=["refuse", "timeout"])
def mode(request) -> str:  # type: ignore[no-untyped-def]
    return request.param


async def test_join(scene: Scene, mode: str) -> None:
    """The organizer's second device joins (a moderator: consumers at once)."""
    socket = Socket()
    await scene.fails(mode, lambda: scene.service.join(scene.m.admin.token, scene.m.room["id"], socket.link()))
    assert socket.frames == [] and len(scene.live.links) == 2


async def test_publish(scene: Scene, mode: str) -> None:
    await scene.service.close_producer(scene.live, scene.a, MIC)
    await scene.fails(
        mode, lambda: scene.service.publish(scene.live, scene.a, audio_offer(3333), {"0": MIC}, frozenset())
    )
    assert MIC not in scene.live.media.peers[scene.a].publications


async def test_close_producer(scene: Scene, mode: str) -> None:
    await scene.fails(mode, lambda: scene.service.close_producer(scene.live, scene.a, MIC))


async def test_subscribe_answer(scene: Scene, mode: str) -> None:
    """A second participant is admitted and answers its first subscribe offer."""
    socket = Socket()
    _, second = await scene.service.join(scene.m.ben.token, scene.m.room["id"], socket.link())
    await scene.service.act(scene.live, scene.o, Command(Action.ADMIT, target=second))
    offer = socket.of("subscribe-offer")[-1]
    answer = subscriber_answer(offer["sdp"])
    await scene.fails(mode, lambda: scene.service.subscribe_answer(scene.live, second, offer["version"], answer))
    assert scene.live.media.peers[second].pending_offer is not None  # may be answered again
    await scene.service.subscribe_answer(scene.live, second, offer["version"], answer)


async def test_leave(scene: Scene, mode: str) -> None:
    await scene.fails(mode, lambda: scene.service.leave(scene.live, scene.a))
    assert scene.live.state.get(scene.a) is not None and scene.a in scene.live.links


async def test_a_closed_socket_leaves_once_the_engine_applies_it(scene: Scene, monkeypatch) -> None:
    """The departure of a participant whose socket closed (after the resume grace) is tried again
    until the engine applies it."""
    monkeypatch.setattr("control.meetings.graces.LEAVE_RETRIES", (0.2, 0.2))
    scene.service.graces.seconds = 0.0
    await scene.fails("refuse", lambda: scene.service.leave(scene.live, scene.a))
    scene.registry.fail = "refuse"
    batches = len(scene.registry.batches)
    await scene.service.disconnected(scene.live, scene.a)
    assert scene.a not in scene.live.links
    for _ in range(100):  # the grace ran out and the engine refused the departure
        if len(scene.registry.batches) > batches:
            break
        await asyncio.sleep(0.01)
    assert len(scene.registry.batches) > batches and scene.live.state.get(scene.a) is not None
    scene.registry.fail = None
    for _ in range(100):
        if scene.live.state.get(scene.a) is None:
            break
        await asyncio.sleep(0.01)
    assert scene.live.state.get(scene.a) is None and scene.a not in scene.live.links


# Each moderation command: what to do first, then the command (None: by O on A).
Prepare = Callable[[Scene], Awaitable[Any]]


async def nothing(scene: Scene) -> None:
    pass


def act(actor: str, command: Callable[[Scene], Command]) -> Prepare:
    async def run(scene: Scene) -> None:
        await scene.service.act(scene.live, getattr(scene, actor), command(scene))

    return run


async def appointed_with_moderator_rights(scene: Scene) -> None:
    """A is appointed moderator and holds moderator rights for the room (as if her access right said
    so when she joined): the meeting may be handed over to her."""
    await scene.service.act(scene.live, scene.o, Command(Action.APPOINT_MODERATOR, target=scene.a))
    a = scene.live.state.get(scene.a)
    assert a is not None
    scene.live.state = scene.live.state.put(replace(a, rights=Role.MODERATOR))


async def sent_back_and_visited(scene: Scene) -> None:
    await scene.service.act(scene.live, scene.o, Command(Action.SEND_BACK, target=scene.a))
    await scene.service.act(scene.live, scene.o, Command(Action.VISIT, target=scene.a))


COMMANDS: dict[Action, tuple[Prepare, str, Callable[[Scene], Command]]] = {
    Action.TURN_ON_SOURCE: (
        act("a", lambda s: Command(Action.TURN_OFF_SOURCE, source=MIC)),
        "a",
        lambda s: Command(Action.TURN_ON_SOURCE, source=MIC),
    ),
    Action.TURN_OFF_SOURCE: (nothing, "o", lambda s: Command(Action.TURN_OFF_SOURCE, target=s.a, source=MIC)),
    Action.LEAVE: (nothing, "a", lambda s: Command(Action.LEAVE)),
    Action.REVOKE_PERMISSION: (
        nothing,
        "o",
        lambda s: Command(Action.REVOKE_PERMISSION, target=s.a, capability=Capability.MICROPHONE),
    ),
    Action.MUTE_ALL_AUDIO: (nothing, "o", lambda s: Command(Action.MUTE_ALL_AUDIO)),
    Action.MUTE_ALL_BOTH: (nothing, "o", lambda s: Command(Action.MUTE_ALL_BOTH)),
    Action.START_PRESENTER_MODE: (nothing, "o", lambda s: Command(Action.START_PRESENTER_MODE)),
    Action.END_MEETING: (nothing, "o", lambda s: Command(Action.END_MEETING)),
    Action.EXCLUDE: (nothing, "o", lambda s: Command(Action.EXCLUDE, target=s.a)),
    Action.REMOVE_FOR_PERIOD: (nothing, "o", lambda s: Command(Action.REMOVE_FOR_PERIOD, target=s.a)),
    Action.BAN: (nothing, "o", lambda s: Command(Action.BAN, target=s.a)),
    Action.SEND_BACK: (nothing, "o", lambda s: Command(Action.SEND_BACK, target=s.a)),
    Action.ADMIT: (
        act("o", lambda s: Command(Action.SEND_BACK, target=s.a)),
        "o",
        lambda s: Command(Action.ADMIT, target=s.a),
    ),
    Action.DENY: (
        act("o", lambda s: Command(Action.SEND_BACK, target=s.a)),
        "o",
        lambda s: Command(Action.DENY, target=s.a),
    ),
    Action.VISIT: (
        act("o", lambda s: Command(Action.SEND_BACK, target=s.a)),
        "o",
        lambda s: Command(Action.VISIT, target=s.a),
    ),
    Action.HAND_OVER: (
        appointed_with_moderator_rights,
        "o",
        lambda s: Command(Action.HAND_OVER, target=s.a),
    ),
    Action.END_VISIT: (sent_back_and_visited, "o", lambda s: Command(Action.END_VISIT, target=s.a)),
    Action.START_RECORDING: (nothing, "o", lambda s: Command(Action.START_RECORDING)),
    Action.STOP_RECORDING: (
        act("o", lambda s: Command(Action.START_RECORDING)),
        "o",
        lambda s: Command(Action.STOP_RECORDING),
    ),
}
"""Every command that changes what the engine forwards in this scene."""

NO_ENGINE: dict[Action, tuple[Prepare, str, Callable[[Scene], Command]]] = {
    Action.APPOINT_MODERATOR: (nothing, "o", lambda s: Command(Action.APPOINT_MODERATOR, target=s.a)),
    Action.REVOKE_MODERATOR: (
        act("o", lambda s: Command(Action.APPOINT_MODERATOR, target=s.a)),
        "o",
        lambda s: Command(Action.REVOKE_MODERATOR, target=s.a),
    ),
    Action.GRANT_PERMISSION: (
        act("o", lambda s: Command(Action.REVOKE_PERMISSION, target=s.a, capability=Capability.MICROPHONE)),
        "o",
        lambda s: Command(Action.GRANT_PERMISSION, target=s.a, capability=Capability.MICROPHONE),
    ),
    Action.ENABLE_CHAT_PARTICIPANT: (nothing, "o", lambda s: Command(Action.ENABLE_CHAT_PARTICIPANT, target=s.a)),
    Action.DISABLE_CHAT_PARTICIPANT: (nothing, "o", lambda s: Command(Action.DISABLE_CHAT_PARTICIPANT, target=s.a)),
    Action.MUTE_ALL_VIDEO: (nothing, "o", lambda s: Command(Action.MUTE_ALL_VIDEO)),
    Action.STOP_PRESENTER_MODE: (
        act("o", lambda s: Command(Action.START_PRESENTER_MODE)),
        "o",
        lambda s: Command(Action.STOP_PRESENTER_MODE),
    ),
    Action.DISABLE_CHAT_ROOM: (nothing, "o", lambda s: Command(Action.DISABLE_CHAT_ROOM)),
    Action.ENABLE_CHAT_ROOM: (nothing, "o", lambda s: Command(Action.ENABLE_CHAT_ROOM)),
    Action.HIDE: (nothing, "o", lambda s: Command(Action.HIDE, target=s.a)),
    Action.UNHIDE: (
        act("o", lambda s: Command(Action.HIDE, target=s.a)),
        "o",
        lambda s: Command(Action.UNHIDE, target=s.a),
    ),
    Action.GIVE_FLOOR: (nothing, "o", lambda s: Command(Action.GIVE_FLOOR, target=s.a)),
    Action.TAKE_FLOOR: (
        act("o", lambda s: Command(Action.GIVE_FLOOR, target=s.a)),
        "o",
        lambda s: Command(Action.TAKE_FLOOR, target=s.a),
    ),
    Action.UNBAN: (
        act("o", lambda s: Command(Action.BAN, target=s.a)),
        "o",
        lambda s: Command(Action.UNBAN, person=f"u:{s.m.ann.id}"),
    ),
}
"""Commands that change nothing the engine forwards here: no batch, so nothing can fail."""


def test_every_command_is_covered() -> None:
    assert set(COMMANDS) | set(NO_ENGINE) == set(Action)


@pytest.mark.parametrize("action", list(COMMANDS), ids=str)
async def test_moderation(scene: Scene, mode: str, action: Action) -> None:
    prepare, actor, command = COMMANDS[action]
    await prepare(scene)
    await scene.fails(mode, lambda: scene.service.act(scene.live, getattr(scene, actor), command(scene)))


@pytest.mark.parametrize("action", list(NO_ENGINE), ids=str)
async def test_commands_without_engine_operations(scene: Scene, action: Action) -> None:
    prepare, actor, command = NO_ENGINE[action]
    await prepare(scene)
    scene.registry.fail = "refuse"
    batches = len(scene.registry.batches)
    assert await scene.service.act(scene.live, getattr(scene, actor), command(scene)) is None
    assert len(scene.registry.batches) == batches


async def test_the_next_change_starts_from_the_kept_records(scene: Scene) -> None:
    """After a refused pause, the producer is still live in control: muting it again pauses it."""
    command = Command(Action.TURN_OFF_SOURCE, target=scene.a, source=MIC)
    await scene.fails("refuse", lambda: scene.service.act(scene.live, scene.o, command))
    await scene.service.act(scene.live, scene.o, command)
    ops = scene.registry.batches[-1][1]
    assert [op.name for op in ops] == ["pause_producer"]
    assert scene.live.media.peers[scene.a].publications[MIC].paused
