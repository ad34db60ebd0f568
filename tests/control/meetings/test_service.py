"""The meeting service's entry points against a fake engine registry: chat text checked before
delivery, the revoked reason, and what the application does at startup."""

from __future__ import annotations

import pytest
from meeting_fakes import Socket

from control.domain.moderation import Action, Command, Reason
from control.meetings.errors import MeetingError
from control.store.models import Meeting

V1 = "/api/v1"


async def test_chat_text_is_checked_before_anyone_gets_it(meetings) -> None:
    organizer = Socket()
    live, oid = await meetings.service.join(meetings.admin.token, meetings.room["id"], organizer.link())
    for text in ("nul\x00byte", " \n ", "x" * 4001):
        with pytest.raises(MeetingError) as error:
            await meetings.service.chat(live, oid, text, None)
        assert error.value.code == "invalid_chat_text" and error.value.status == 422
    assert organizer.of("chat") == [] and not [c for c in meetings.recorder.calls if c[0] == "chat_message"]
    await meetings.service.chat(live, oid, "fine\ttext\n", None)
    [chat] = organizer.of("chat")
    assert chat["text"] == "fine\ttext\n" and chat["from"] == oid and chat["at"].endswith("Z")


async def test_a_revoked_guest_is_told_why(meetings) -> None:
    service = meetings.service
    organizer, other = Socket(), Socket()
    live, oid = await service.join(meetings.admin.token, meetings.room["id"], organizer.link())
    _, aid = await service.join(meetings.ann.token, meetings.room["id"], other.link())
    await service.act(live, oid, Command(Action.ADMIT, target=aid))
    await service.leave(live, aid, Reason.REVOKED)
    assert other.of("disconnected")[-1] == {"type": "disconnected", "reason": "revoked", "until": None}
    assert organizer.of("participant-left")[-1] == {
        "type": "participant-left",
        "participant_id": aid,
        "reason": "revoked",
    }
    await service.observed()
    assert ("participant_left", aid, f"u:{meetings.ann.id}", "revoked") in meetings.recorder.calls


async def test_startup_ends_meetings_a_previous_process_left_running(world, client) -> None:
    from control.app import create_app

    admin = await world.company()
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Old"})).json()
    async with world.context() as ctx:
        meeting = Meeting(
            company_id=admin.company_id, room_id=room["id"], opened_by=admin.id, started_at=ctx.now(), worker_id="w"
        )
        ctx.session.add(meeting)
        await ctx.session.commit()
        meeting_id = meeting.id
    async with world.context() as ctx:
        settings = ctx.settings
    app = create_app(settings)  # the same database, opened again as after a restart
    async with app.router.lifespan_context(app), app.state.context() as ctx:
        row = await ctx.session.get(Meeting, meeting_id)
        assert row.ended_at is not None and row.end_reason == "control_plane_restarted"


async def test_metrics_show_moderation_latency(app, client) -> None:
    headers = {"Authorization": f"Bearer {app.state.metrics_token}"}
    text = (await client.get("/metrics", headers=headers)).text
    assert "podium_engine_apply_seconds_count" in text and "podium_moderation_seconds_count" in text
