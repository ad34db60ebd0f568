"""A meeting service against a fake engine registry (meeting_fakes), with a recording observer,
for a company with an admin (organizer) and Ann (participant) in a room with a waiting room."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from meeting_fakes import FakeRegistry

from control.meetings.observers import MeetingObserver
from control.meetings.service import MeetingService
from control.recording.library import RecordingLibrary

V1 = "/api/v1"


class Recorder(MeetingObserver):
    """An observer that writes down every notification."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def _note(self, *call: Any) -> None:
        await asyncio.sleep(0)
        self.calls.append(call)

    async def participant_joined(self, meeting: Any, participant_id: str, person: str, name: str) -> None:
        await self._note("participant_joined", participant_id, person, name)

    async def participant_waiting(
        self, meeting: Any, participant_id: str, person: str | None = None, name: str = ""
    ) -> None:
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

    async def chat_message(self, meeting: Any, sender_id: str, sender_name: str, to: str | None, text: str) -> None:
        await self._note("chat_message", sender_id, text)


@dataclass
class Setup:
    service: MeetingService
    registry: FakeRegistry
    recorder: Recorder
    admin: Any
    ann: Any
    room: dict[str, Any]
    ben: Any


@pytest.fixture
async def meetings(world, client, tmp_path):  # type: ignore[no-untyped-def]
    admin = await world.company()
    ann = await world.user(admin, name="Ann")
    ben = await world.user(admin, name="Ben")
    room = (
        await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Hooks", "waiting_room": True})
    ).json()
    for person in (ann, ben):
        response = await client.put(
            f"{V1}/rooms/{room['id']}/access/{person.id}", headers=admin.headers, json={"role": "participant"}
        )
        assert response.status_code == 204
    registry = FakeRegistry()
    service = MeetingService(
        world.app.state.context,
        registry,  # type: ignore[arg-type]
        recordings=RecordingLibrary(tmp_path / "recordings"),
    )
    recorder = Recorder()
    service.add_observer(recorder)
    yield Setup(service, registry, recorder, admin, ann, room, ben)
    await service.close()
