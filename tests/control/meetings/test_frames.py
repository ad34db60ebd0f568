"""Outgoing signaling frames: typed, `joined` before any other frame, and every timestamp ISO
8601 in UTC with a Z."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import pytest
from meeting_fakes import Socket

from control.domain.meeting_state import entry_refusal, iso
from control.domain.moderation import Action, Command
from control.domain.permissions import Permission
from control.meetings import file_frames, frames, tool_frames


def instant(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text)


async def test_joined_comes_first_even_for_a_moderator_with_someone_waiting(meetings, world) -> None:
    service, room = meetings.service, meetings.room["id"]
    first, waiting, second = Socket(), Socket(), Socket()
    await service.join(meetings.admin.token, room, first.link())
    await service.join(meetings.ann.token, room, waiting.link())
    organizer = await world.user(meetings.admin, [Permission.ADMINISTRATE_ROOMS], name="Olga")
    _, pid = await service.join(organizer.token, room, second.link())  # a moderator: gets the waiting room
    assert [f["type"] for f in second.frames] == ["joined", "waiting-room"]
    assert second.frames[0]["participant_id"] == pid and len(second.frames[0]["waiting"]) == 1
    assert waiting.frames[0]["type"] == "joined" and first.frames[0]["type"] == "joined"


async def test_a_removal_is_dated_in_iso_8601(meetings) -> None:
    service, room = meetings.service, meetings.room["id"]
    organizer, ann = Socket(), Socket()
    live, oid = await service.join(meetings.admin.token, room, organizer.link())
    _, aid = await service.join(meetings.ann.token, room, ann.link())
    await service.act(live, oid, Command(Action.ADMIT, target=aid))
    await service.act(live, oid, Command(Action.REMOVE_FOR_PERIOD, target=aid, seconds=600))
    [gone] = ann.of("disconnected")
    assert gone["reason"] == "removed"
    until = instant(gone["until"])
    assert 590 < (until - datetime.now(UTC)).total_seconds() <= 600
    # entering again (a new login, an invitation link) is refused with the same instant
    refusal = entry_refusal(f"u:{meetings.ann.id}", 0, removals=live.state.removals)
    assert refusal is not None and refusal.code == "removed" and refusal.message.endswith(f"until {gone['until']}")


def test_iso() -> None:
    assert iso(0) == "1970-01-01T00:00:00Z"
    assert iso(1.5) == "1970-01-01T00:00:01.500000Z"


def test_frames_are_typed() -> None:
    chat = frames.ChatMessage(id=1, from_="p1", from_name="Ann", to=None, text="hi", at=iso(0))
    assert chat.wire() == {
        "type": "chat",
        "id": 1,
        "from": "p1",
        "from_name": "Ann",
        "to": None,
        "to_name": None,
        "text": "hi",
        "at": "1970-01-01T00:00:00Z",
    }
    assert frames.Disconnected(reason="left").wire() == {"type": "disconnected", "reason": "left", "until": None}
    with pytest.raises(ValueError):
        frames.Notice(code="x", message="y", extra=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        frames.Visit(type="visit-paused", moderator_id="a", participant_id="b")  # type: ignore[arg-type]


def test_every_documented_frame_has_a_model() -> None:
    """docs/signaling.md's server → client tables and the models name the same frame types."""
    docs = (Path(__file__).parents[3] / "docs" / "signaling.md").read_text()
    section = docs[docs.index("## Server → client") : docs.index("### Reconnecting")]
    documented = set(re.findall(r"^\| `([a-z-]+)`(?: / `([a-z-]+)`)?", section, re.MULTILINE))
    documented_types = {t for pair in documented for t in pair if t}
    modelled = {
        t
        for module in (frames, tool_frames, file_frames)
        for model in vars(module).values()
        if isinstance(model, type) and issubclass(model, frames.OutFrame) and "type" in model.model_fields
        for t in get_args(model.model_fields["type"].annotation)
    }
    assert documented_types == modelled
