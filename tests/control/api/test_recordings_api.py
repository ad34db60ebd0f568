"""Recordings over REST: listed, described, downloaded (streamed) and deleted by those who moderate the
room (its organizers and moderators, holders of Administrate rooms); participants refused, other
companies see nothing; a running recording is not deleted; deletion audited and the bytes freed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from control.store.models import AuditEvent

V1 = "/api/v1"


def _recording(app: Any, company_id: str, room_id: str, recording_id: str, state: str = "stopped") -> bytes:
    """A recording as the recorder leaves one (its files and description)."""
    library = app.state.meetings.recordings.library
    directory = library.directory(company_id, recording_id)
    directory.mkdir(parents=True)
    content = bytes(range(256)) * 1000  # more than one streamed chunk
    (directory / "p1.camera.1.webm").write_bytes(content)
    (directory / "mixed.webm").write_bytes(b"mixed")
    library.write(
        {
            "id": recording_id,
            "company_id": company_id,
            "room_id": room_id,
            "meeting_id": "m" * 32,
            "started_at": "2026-12-06T20:00:00.000+00:00",
            "started_by": {"participant_id": "p1", "user_id": None},
            "ended_at": None if state == "recording" else "2026-12-06T20:01:00.000+00:00",
            "state": state,
            "files": [
                {"name": "p1.camera.1.webm", "kind": "video", "participant_id": "p1", "source": "camera"},
                {"name": "mixed.webm", "kind": "audio", "source": "mixed"},
            ],
        }
    )
    return content


async def test_recordings_list_download_delete(world, client, app) -> None:  # type: ignore[no-untyped-def]
    admin = await world.company()
    moderator = await world.user(admin, name="Mo")
    participant = await world.user(admin, name="Pat")
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Recorded"})).json()
    for user, role in ((moderator, "moderator"), (participant, "participant")):
        response = await client.put(
            f"{V1}/rooms/{room['id']}/access/{user.id}", headers=admin.headers, json={"role": role}
        )
        assert response.status_code == 204
    content = _recording(app, admin.company_id, room["id"], "r" + "1" * 16)
    _recording(app, admin.company_id, room["id"], "r" + "2" * 16, state="recording")
    other = await world.company()

    for who in (admin, moderator):
        listed = (await client.get(f"{V1}/recordings", headers=who.headers)).json()["items"]
        assert sorted(r["id"] for r in listed) == ["r" + "1" * 16, "r" + "2" * 16]
        one = (await client.get(f"{V1}/recordings/r{'1' * 16}", headers=who.headers)).json()
        assert one["bytes"] == len(content) + 5 and [f["name"] for f in one["files"]] == [
            "p1.camera.1.webm",
            "mixed.webm",
        ]
        download = await client.get(f"{V1}/recordings/r{'1' * 16}/files/p1.camera.1.webm", headers=who.headers)
        assert download.status_code == 200 and download.content == content
        assert download.headers["content-type"] == "video/webm"
        mixed = await client.get(f"{V1}/recordings/r{'1' * 16}/files/mixed.webm", headers=who.headers)
        assert mixed.headers["content-type"] == "audio/webm" and mixed.content == b"mixed"
    assert (await client.get(f"{V1}/recordings?room_id={room['id']}", headers=admin.headers)).json()["items"]

    # a participant of the room: nothing listed, 403 on the recording; another company: 404
    assert (await client.get(f"{V1}/recordings", headers=participant.headers)).json()["items"] == []
    refused = await client.get(f"{V1}/recordings/r{'1' * 16}", headers=participant.headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "no_access")
    assert (
        await client.get(f"{V1}/recordings/r{'1' * 16}/files/mixed.webm", headers=participant.headers)
    ).status_code == 403
    assert (await client.delete(f"{V1}/recordings/r{'1' * 16}", headers=participant.headers)).status_code == 403
    assert (await client.get(f"{V1}/recordings/r{'1' * 16}", headers=other.headers)).status_code == 404
    assert (await client.get(f"{V1}/recordings", headers=other.headers)).json()["items"] == []

    # names outside the description, malformed ids: 404 / 422, nothing read
    assert (await client.get(f"{V1}/recordings/r{'1' * 16}/files/other.webm", headers=admin.headers)).status_code == 404
    assert (await client.get(f"{V1}/recordings/r{'1' * 16}/files/..%2Fx.webm", headers=admin.headers)).status_code in (
        404,
        422,
    )
    assert (await client.get(f"{V1}/recordings/nope", headers=admin.headers)).status_code == 404

    # a running recording is not deleted; a finished one is, audited, its bytes freed
    running = await client.delete(f"{V1}/recordings/r{'2' * 16}", headers=moderator.headers)
    assert (running.status_code, running.json()["error"]["code"]) == (409, "recording_running")
    library = app.state.meetings.recordings.library
    before = library.used_bytes(admin.company_id)
    assert (await client.delete(f"{V1}/recordings/r{'1' * 16}", headers=moderator.headers)).status_code == 204
    assert library.used_bytes(admin.company_id) < before - len(content) + 1
    assert (await client.get(f"{V1}/recordings/r{'1' * 16}", headers=admin.headers)).status_code == 404
    async with world.context() as ctx:
        audit = (await ctx.session.scalars(select(AuditEvent).where(AuditEvent.action == "recording.delete"))).all()
    assert [(a.actor_user_id, a.target_id) for a in audit] == [(moderator.id, "r" + "1" * 16)]
