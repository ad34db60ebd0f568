"""GET /rooms/{room_id}/meetings: a room's meetings, newest first, paginated, for holders of Administrate
rooms and the room's organizers and moderators; refused to others, not found for other companies and
for hidden rooms the caller cannot see."""

from datetime import UTC, datetime, timedelta

from control.domain.permissions import Permission
from control.store.models import Meeting

V1 = "/api/v1"


async def test_a_rooms_meetings_newest_first_for_permitted_callers(world, client) -> None:
    admin = await world.company()
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "History"})).json()
    other_room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Elsewhere"})).json()
    start = datetime(2030, 1, 1, 9, tzinfo=UTC)
    async with world.context() as ctx:
        for day in range(3):
            ctx.session.add(
                Meeting(
                    company_id=admin.company_id,
                    room_id=room["id"],
                    opened_by=admin.id,
                    started_at=start + timedelta(days=day),
                    worker_id="w",
                    ended_at=start + timedelta(days=day, hours=1) if day < 2 else None,
                    end_reason="empty" if day < 2 else None,
                )
            )
        ctx.session.add(
            Meeting(
                company_id=admin.company_id,
                room_id=other_room["id"],
                opened_by=admin.id,
                started_at=start + timedelta(days=9),
                worker_id="w",
            )
        )
        await ctx.session.commit()
    path = f"{V1}/rooms/{room['id']}/meetings"

    listed = await client.get(path, headers=admin.headers)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["total"] == 3 and page["offset"] == 0 and page["limit"] == 50
    assert [m["started_at"][:10] for m in page["items"]] == ["2030-01-03", "2030-01-02", "2030-01-01"]
    assert [m["running"] for m in page["items"]] == [True, False, False]
    assert page["items"][0]["ended_at"] is None and page["items"][1]["ended_at"].startswith("2030-01-02T10:00")
    assert {m["room_id"] for m in page["items"]} == {room["id"]}
    second = (await client.get(path, headers=admin.headers, params={"offset": 1, "limit": 1})).json()
    assert second["total"] == 3 and [m["id"] for m in second["items"]] == [page["items"][1]["id"]]
    assert (await client.get(path, headers=admin.headers, params={"limit": 0})).status_code == 422

    room_admin = await world.user(admin, [Permission.ADMINISTRATE_ROOMS])
    organizer, moderator, participant = [await world.user(admin) for _ in range(3)]
    for user, role in ((organizer, "organizer"), (moderator, "moderator"), (participant, "participant")):
        response = await client.put(
            f"{V1}/rooms/{room['id']}/access/{user.id}", headers=admin.headers, json={"role": role}
        )
        assert response.status_code == 204
    for permitted in (room_admin, organizer, moderator):
        response = await client.get(path, headers=permitted.headers)
        assert response.status_code == 200 and response.json()["total"] == 3, response.text
    refused = await client.get(path, headers=participant.headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "no_access"
    lister = await world.user(admin, [Permission.LIST_ALL_ROOMS])  # sees the room, may not list its meetings
    assert (await client.get(path, headers=lister.headers)).status_code == 403
    stranger = await world.user(admin)  # no access, no List all rooms: the room is not seen
    assert (await client.get(path, headers=stranger.headers)).status_code == 404

    other = await world.company()  # another company's administrator
    assert (await client.get(path, headers=other.headers)).status_code == 404

    # a hidden room: not found for a lister without access, listed for its moderator
    await client.patch(f"{V1}/rooms/{room['id']}", headers=admin.headers, json={"hidden": True})
    assert (await client.get(path, headers=lister.headers)).status_code == 404
    assert (await client.get(path, headers=moderator.headers)).status_code == 200
