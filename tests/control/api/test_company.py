from control.domain.permissions import Permission as P

V1 = "/api/v1"


async def test_members_see_name_and_notice_managers_also_quotas(world, client):
    admin = await world.company("acme", max_rooms=7, max_users=9, max_participants=30)
    member = await world.user(admin, [P.ADMINISTRATE_USERS])
    seen = (await client.get(f"{V1}/company", headers=member.headers)).json()
    assert seen["slug"] == "acme" and seen["quotas"] is None
    quotas = (await client.get(f"{V1}/company", headers=admin.headers)).json()["quotas"]
    assert quotas == {"max_rooms": 7, "max_users": 9, "max_participants": 30, "rooms": 0, "users": 2}


async def test_settings_managers_change_name_and_notice_and_it_is_audited(world, client):
    admin = await world.company("acme")
    response = await client.patch(
        f"{V1}/company", headers=admin.headers, json={"name": "Acme GmbH", "privacy_notice": "Line 1\nLine 2"}
    )
    assert response.status_code == 200 and response.json()["privacy_notice"] == "Line 1\nLine 2"
    events = (
        await client.get(f"{V1}/audit-events", headers=admin.headers, params={"action": "company.updated"})
    ).json()["items"]
    assert events[0]["before"] == {"name": "Acme", "privacy_notice": ""}
    assert events[0]["after"] == {"name": "Acme GmbH", "privacy_notice": "Line 1\nLine 2"}
    assert events[0]["actor_user_id"] == admin.id


async def test_unknown_fields_and_bad_names_are_refused(world, client):
    admin = await world.company("acme")
    for body in ({"max_rooms": 1000}, {"name": ""}, {"name": "a\nb"}, {"name": "x" * 201}):
        response = await client.patch(f"{V1}/company", headers=admin.headers, json=body)
        assert response.status_code == 422, body
    assert (await client.get(f"{V1}/company", headers=admin.headers)).json()["name"] == "Acme"
