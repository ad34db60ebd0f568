"""The principal cache (control.security.principals): a cached principal is reused, and every change
of what a principal may do is honoured by the very next request after the call that made it returns.

Each test first makes the affected credential's principal cached (a successful request), checks
that it is, then makes the change through the API and checks the next request."""

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, text, update

from contract.acks import Ack as Applied
from control.domain.moderation import Action
from control.domain.permissions import Permission as P
from control.engines import WorkerInfo
from control.meetings.service import Link, MeetingService
from control.security import principals
from control.services import auth
from control.store.models import ApiKey, User

V1 = "/api/v1"


def cache_of(app: Any) -> principals.PrincipalCache:
    return principals.for_engine(app.state.engine)


async def cached(app: Any, client: Any, headers: dict[str, str]) -> None:
    """Make the credential's principal cached, and check that the next request is served from it."""
    assert (await client.get(f"{V1}/me", headers=headers)).status_code == 200
    cache = cache_of(app)
    hits = cache.hits
    assert (await client.get(f"{V1}/me", headers=headers)).status_code == 200
    assert cache.hits == hits + 1, "the second request should have been served from the cache"


# ---- the cache is used, and only for the credential it was filled by ---------------------------------


async def test_a_cached_principal_needs_no_store_read(world, client, app) -> None:
    admin = await world.company()
    await cached(app, client, admin.headers)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    from sqlalchemy import event

    sync = app.state.engine.sync_engine
    event.listen(sync, "before_cursor_execute", seen)
    try:
        async with app.state.context() as ctx:
            principal = await auth.authenticate(ctx, admin.token)
    finally:
        event.remove(sync, "before_cursor_execute", seen)
    assert principal.user_id == admin.id and P.LIST_ALL_USERS in principal.permissions
    assert statements == []


async def test_the_token_is_still_checked_on_every_request(world, client, app) -> None:
    import jwt

    admin = await world.company()
    await cached(app, client, admin.headers)
    claims = jwt.decode(admin.token, options={"verify_signature": False})
    forged = jwt.encode(claims, "another key of 32 bytes or more!!!!", algorithm="HS256")
    expired = jwt.encode({**claims, "exp": claims["iat"] - 1}, world.token_key, algorithm="HS256")
    other_user = jwt.encode({**claims, "sub": "0" * 32}, world.token_key, algorithm="HS256")
    for token in (forged, expired, other_user):
        response = await client.get(f"{V1}/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_token"


# ---- every change takes effect at once ------------------------------------------------------------------


async def test_logout(world, client, app) -> None:
    admin = await world.company()
    await cached(app, client, admin.headers)
    assert (await client.post(f"{V1}/auth/logout", headers=admin.headers)).status_code == 204
    assert (await client.get(f"{V1}/me", headers=admin.headers)).status_code == 401


async def test_password_change_revokes_every_session(world, client, app) -> None:
    admin = await world.company()
    second = await world.login(admin.company_slug, admin.email)
    await cached(app, client, admin.headers)
    await cached(app, client, second.headers)
    response = await client.post(
        f"{V1}/auth/password",
        headers=admin.headers,
        json={"current_password": world.password, "new_password": "another long password"},
    )
    assert response.status_code == 204, response.text
    for actor in (admin, second):
        assert (await client.get(f"{V1}/me", headers=actor.headers)).status_code == 401


async def test_password_reset_by_an_administrator(world, client, app) -> None:
    admin = await world.company()
    user = await world.user(admin)
    await cached(app, client, user.headers)
    assert (await client.post(f"{V1}/users/{user.id}/password-reset", headers=admin.headers)).status_code == 200
    assert (await client.get(f"{V1}/me", headers=user.headers)).status_code == 401


async def test_permission_revoked_then_granted(world, client, app) -> None:
    admin = await world.company()
    user = await world.user(admin, [P.LIST_ALL_USERS])
    key = await world.api_key(admin, user)
    for credential in (user, key):
        await cached(app, client, credential.headers)
        assert (await client.get(f"{V1}/users", headers=credential.headers)).status_code == 200
    assert (
        await client.delete(f"{V1}/users/{user.id}/permissions/list_all_users", headers=admin.headers)
    ).status_code == 200
    for credential in (user, key):
        assert (await client.get(f"{V1}/users", headers=credential.headers)).status_code == 403
        await cached(app, client, credential.headers)
    assert (
        await client.put(f"{V1}/users/{user.id}/permissions/list_all_users", headers=admin.headers)
    ).status_code == 200
    for credential in (user, key):
        assert (await client.get(f"{V1}/users", headers=credential.headers)).status_code == 200


async def test_user_deleted(world, client, app) -> None:
    admin = await world.company()
    user = await world.user(admin)
    key = await world.api_key(admin, user)
    for credential in (user, key):
        await cached(app, client, credential.headers)
    assert (await client.delete(f"{V1}/users/{user.id}", headers=admin.headers)).status_code == 204
    for credential in (user, key):
        assert (await client.get(f"{V1}/me", headers=credential.headers)).status_code == 401


async def test_user_edited(world, client, app) -> None:
    admin = await world.company()
    user = await world.user(admin)
    await cached(app, client, user.headers)
    response = await client.patch(f"{V1}/users/{user.id}", headers=admin.headers, json={"name": "Renamed"})
    assert response.status_code == 200, response.text
    assert len(cache_of(app)) == 0  # any write to users empties the cache
    assert (await client.get(f"{V1}/me", headers=user.headers)).json()["name"] == "Renamed"


async def test_api_key_revoked(world, client, app) -> None:
    admin = await world.company()
    key = await world.api_key(admin, admin)
    await cached(app, client, key.headers)
    key_id = (await client.get(f"{V1}/api-keys", headers=admin.headers)).json()["items"][0]["id"]
    assert (await client.delete(f"{V1}/api-keys/{key_id}", headers=admin.headers)).status_code == 204
    response = await client.get(f"{V1}/me", headers=key.headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"


async def test_a_change_written_by_any_layer_is_seen(world, client, app) -> None:
    """Invalidation listens to the database engine, so a writer that knows nothing of the cache
    (another service, a repository, plain SQL) is honoured too."""
    admin = await world.company()
    user = await world.user(admin, [P.LIST_ALL_USERS])
    await cached(app, client, user.headers)
    async with app.state.context() as ctx:
        await ctx.session.execute(text("DELETE FROM user_permissions WHERE user_id = :id"), {"id": user.id})
        await ctx.session.commit()
    assert (await client.get(f"{V1}/users", headers=user.headers)).status_code == 403
    await cached(app, client, user.headers)
    async with app.state.context() as ctx:
        await ctx.session.execute(update(User).where(User.id == user.id).values(password_hash=None))
        await ctx.session.commit()
    assert (await client.get(f"{V1}/me", headers=user.headers)).status_code == 401


# ---- the meetings: removal and ban revoke the person's tokens --------------------------------------------


class AckingRegistry:
    """An engine registry that acks every batch at once (one live worker)."""

    def __init__(self) -> None:
        self.batches = 0

    def add_listener(self, listener: Any) -> None:
        pass

    def pick_worker(self, *, exclude: Any = (), require: Any = ()) -> str:
        return "w1"

    def workers(self) -> list[WorkerInfo]:
        return [self.worker("w1")]

    def worker(self, worker_id: str) -> WorkerInfo:
        return WorkerInfo(
            worker_id, ("127.0.0.1", 1), [("127.0.0.1", 1)], [("sha-256", "AB")], ["webrtc"], True, 0, {}, None
        )

    def table(self, worker_id: str) -> list[dict[str, Any]]:
        return []

    async def apply(self, worker_id: str, ops: Any, *, timeout: Any = None, started: Any = None) -> Applied:
        self.batches += 1
        return Applied(self.batches, [{"ok": True} for _ in ops], 0.0)


def link() -> Link:
    async def close(code: int, reason: str) -> None:
        pass

    return Link(lambda frame: None, close)


@pytest.fixture
async def meeting(world, client, app):  # type: ignore[no-untyped-def]
    admin = await world.company()
    ann = await world.user(admin, name="Ann")
    room = (await client.post(f"{V1}/rooms", headers=admin.headers, json={"name": "Cached"})).json()
    assert (
        await client.put(
            f"{V1}/rooms/{room['id']}/access/{ann.id}", headers=admin.headers, json={"role": "participant"}
        )
    ).status_code == 204
    real = app.state.meetings
    service = MeetingService(app.state.context, AckingRegistry())  # type: ignore[arg-type]
    app.state.meetings = service
    live, organizer = await service.join(admin.token, room["id"], link())
    _, target = await service.join(ann.token, room["id"], link())
    yield admin, ann, live, organizer, target
    app.state.meetings = real
    await service.close()


@pytest.mark.parametrize("action", [Action.EXCLUDE, Action.REMOVE_FOR_PERIOD, Action.BAN])
async def test_removed_or_banned_people_lose_their_tokens(meeting, client, app, action) -> None:
    admin, ann, live, organizer, target = meeting
    await cached(app, client, ann.headers)
    response = await client.post(
        f"{V1}/meetings/{live.id}/actions", headers=admin.headers, json={"action": str(action), "target": target}
    )
    assert response.status_code == 200, response.text
    assert (await client.get(f"{V1}/me", headers=ann.headers)).status_code == 401


async def test_acting_needs_no_store_read_for_a_participant_and_others_still_get_404(
    world, meeting, client, app
) -> None:
    admin, ann, live, organizer, target = meeting
    path = f"{V1}/meetings/{live.id}/actions"
    body = {"action": "revoke_permission", "target": target, "capability": "microphone"}
    await cached(app, client, admin.headers)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    from sqlalchemy import event

    sync = app.state.engine.sync_engine
    event.listen(sync, "before_cursor_execute", seen)
    try:
        response = await client.post(path, headers=admin.headers, json=body)
    finally:
        event.remove(sync, "before_cursor_execute", seen)
    assert response.status_code == 200, response.text
    # no reads: the only statements write the audit entry and the meeting's documents, after the ack
    assert statements and all(s.lstrip().startswith(("INSERT", "UPDATE", "DELETE")) for s in statements), statements
    assert any("audit_events" in s for s in statements) and any("live_meetings" in s for s in statements)

    other = await world.company()
    assert (await client.post(path, headers=other.headers, json=body)).status_code == 404
    assert (await client.get(f"{V1}/meetings/{live.id}", headers=other.headers)).status_code == 404
    stranger = await world.user(admin)  # same company, no access to the room: the room is not seen
    assert (await client.post(path, headers=stranger.headers, json=body)).status_code == 404
    assert (await client.get(f"{V1}/meetings/{live.id}", headers=stranger.headers)).status_code == 404
    assert (await client.get(f"{V1}/meetings/{live.id}", headers=ann.headers)).status_code == 200


# ---- the mechanism ----------------------------------------------------------------------------------------


def test_which_statements_invalidate() -> None:
    assert principals.changes_principals("UPDATE auth_sessions SET revoked_at=? WHERE auth_sessions.user_id = ?")
    assert principals.changes_principals("DELETE FROM user_permissions WHERE user_permissions.user_id = ?")
    assert principals.changes_principals('INSERT INTO "user_permissions" (user_id, permission) VALUES (?, ?)')
    assert principals.changes_principals("  delete from users where id = ?")
    assert principals.changes_principals("UPDATE api_keys SET revoked_at=? WHERE api_keys.id = ?")
    assert not principals.changes_principals("SELECT users.id FROM users WHERE users.id = ?")
    assert not principals.changes_principals("INSERT INTO audit_events (action) VALUES (?)")
    assert not principals.changes_principals("UPDATE rooms SET name=? WHERE rooms.id = ?")


def test_a_read_that_raced_a_change_is_not_stored() -> None:
    from control.types import Principal

    cache = principals.PrincipalCache()
    principal = Principal(company_id="c", user_id="u", permissions=frozenset())
    ticket = cache.ticket()
    cache.invalidate()  # a change committed while the store was being read
    cache.put("s:1", principal, ticket)
    assert cache.get("s:1") is None
    cache._writing.add("a connection")  # a change is being written: nothing is stored until it ends
    cache.put("s:1", principal, cache.ticket())
    assert cache.get("s:1") is None
    cache._released(None, "a connection")
    cache.put("s:1", principal, cache.ticket())
    assert cache.get("s:1") is principal


def test_entries_expire() -> None:
    from control.types import Principal

    now = [100.0]
    cache = principals.PrincipalCache(ttl=2.0, clock=lambda: now[0])
    principal = Principal(company_id="c", user_id="u", permissions=frozenset())
    cache.put("s:1", principal, cache.ticket())
    now[0] += 1.9
    assert cache.get("s:1") is principal
    now[0] += 0.2
    assert cache.get("s:1") is None


async def test_an_uncommitted_change_blocks_caching_until_it_ends(world, client, app) -> None:
    admin = await world.company()
    user = await world.user(admin, [P.LIST_ALL_USERS])
    cache = cache_of(app)
    async with app.state.context() as writer:
        await writer.session.execute(text("DELETE FROM user_permissions WHERE user_id = :id"), {"id": user.id})
        assert cache._writing
        # SQLite: the writer holds the write lock; readers see the last committed state
        assert (await client.get(f"{V1}/users", headers=user.headers)).status_code == 200
        assert len(cache) == 0
        await writer.session.commit()
    assert not cache._writing
    assert (await client.get(f"{V1}/users", headers=user.headers)).status_code == 403


async def test_an_api_keys_use_is_recorded_without_emptying_the_cache(world, client, app) -> None:
    admin = await world.company()
    key = await world.api_key(admin, admin)
    await cached(app, client, key.headers)
    async with app.state.context() as ctx:
        stored = (await ctx.session.scalars(select(ApiKey))).one()
    assert stored.last_used_at is not None
    cache = cache_of(app)
    hits = cache.hits
    await asyncio.gather(*(client.get(f"{V1}/me", headers=key.headers) for _ in range(3)))
    assert cache.hits == hits + 3
