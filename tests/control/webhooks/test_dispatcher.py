"""control.webhooks: the queue and the dispatcher over a real database, the receiver an httpx mock
transport: signed deliveries, backoff on failure, one claim per delivery, refused addresses."""

from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from control.domain.webhooks import EventType, Retry
from control.store.models import WebhookDelivery
from control.webhooks.dispatcher import Dispatcher
from control.webhooks.queue import enqueue
from control.webhooks.settings import WebhookSettings

V1 = "/api/v1"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def add_webhook(world, admin, name="Hook", url="http://127.0.0.1:9/hook"):  # type: ignore[no-untyped-def]
    created = await world.client.post(
        f"{V1}/add-ins", headers=admin.headers, json={"name": name, "kind": "webhook", "url": url, "secret": True}
    )
    assert created.status_code == 201, created.text
    return created.json()


@pytest.fixture(autouse=True)
async def app_dispatcher_stopped(app):  # type: ignore[no-untyped-def]
    """The application's own dispatcher would take the deliveries these tests queue."""
    await app.state.webhooks.close()


def make_dispatcher(world, handler, clock, **settings) -> Dispatcher:  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def sessions():  # type: ignore[no-untyped-def]
        async with world.context() as ctx:
            yield ctx.session

    options = {"allow_private": True, "retry": Retry(base=timedelta(seconds=10), attempts=3), **settings}
    return Dispatcher(
        sessions, WebhookSettings(**options), world.token_key, clock=clock, transport=httpx.MockTransport(handler)
    )


async def queue(world, admin, clock: Clock, data=None) -> list[str]:  # type: ignore[no-untyped-def]
    async with world.context() as ctx:
        ids = await enqueue(ctx.session, admin.company_id, EventType.MEETING_STARTED, data or {"m": 1}, clock())
        await ctx.session.commit()
    return ids


async def rows(world) -> dict[str, WebhookDelivery]:  # type: ignore[no-untyped-def]
    async with world.context() as ctx:
        return {d.id: d for d in await ctx.session.scalars(select(WebhookDelivery))}


async def test_signed_delivery_then_never_again(world, client) -> None:
    admin = await world.company()
    hook = await add_webhook(world, admin)
    clock = Clock()
    got: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        got.append(request)
        return httpx.Response(204)

    dispatcher = make_dispatcher(world, receiver, clock)
    [message_id] = await queue(world, admin, clock, {"meeting_id": "m1"})
    assert await dispatcher.run_once() == 1
    request = got[0]
    body = Webhook(hook["secret"]).verify(request.content, dict(request.headers))
    assert body["type"] == "meeting.started" and body["data"] == {"meeting_id": "m1"}
    assert request.headers["webhook-id"] == message_id and str(request.url) == "http://127.0.0.1:9/hook"
    clock.now += timedelta(days=1)
    assert await dispatcher.run_once() == 0 and len(got) == 1
    delivery = (await rows(world))[message_id]
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.last_status == 204
    await dispatcher.close()


async def test_failures_back_off_then_give_up(world, client) -> None:
    admin = await world.company()
    await add_webhook(world, admin)
    clock = Clock()
    answers = iter([httpx.Response(500), httpx.Response(410)])
    dispatcher = make_dispatcher(world, lambda request: next(answers), clock)

    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    [message_id] = await queue(world, admin, clock)
    assert await dispatcher.run_once() == 1
    first = (await rows(world))[message_id]
    assert first.status == "pending" and first.last_status == 500 and "500" in first.last_error
    assert first.next_attempt_at == clock.now + timedelta(seconds=10)
    clock.now += timedelta(seconds=9)
    assert await dispatcher.run_once() == 0  # not due yet
    clock.now += timedelta(seconds=1)
    assert await dispatcher.run_once() == 1
    second = (await rows(world))[message_id]
    assert second.attempts == 2 and second.next_attempt_at == clock.now + timedelta(seconds=20)
    await dispatcher.close()
    dispatcher = make_dispatcher(world, fail, clock)
    clock.now += timedelta(seconds=20)
    assert await dispatcher.run_once() == 1
    third = (await rows(world))[message_id]
    assert third.status == "failed" and third.attempts == 3 and third.last_status is None
    assert "ConnectError" in third.last_error and third.next_attempt_at is None
    await dispatcher.close()


async def test_two_dispatchers_never_claim_the_same_delivery(world, client) -> None:
    admin = await world.company()
    await add_webhook(world, admin, "One")
    await add_webhook(world, admin, "Two")
    clock = Clock()
    seen: list[str] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["webhook-id"])
        return httpx.Response(200)

    ids = [i for _ in range(5) for i in await queue(world, admin, clock)]
    a, b = make_dispatcher(world, receiver, clock), make_dispatcher(world, receiver, clock)
    claimed_a, claimed_b = await a._claim(100), await b._claim(100)
    assert sorted(claimed_a + claimed_b) == sorted(ids) and not set(claimed_a) & set(claimed_b)
    clock.now += timedelta(hours=1)  # past every lease: due again, still once each
    assert await a.run_once() + await b.run_once() == len(ids)
    assert sorted(seen) == sorted(ids)
    await a.close()
    await b.close()


async def test_private_addresses_only_when_allowed_and_disabled_add_ins(world, client) -> None:
    admin = await world.company()
    hook = await add_webhook(world, admin)
    clock = Clock()
    dispatcher = make_dispatcher(world, lambda request: httpx.Response(200), clock, allow_private=False)
    [message_id] = await queue(world, admin, clock)
    await dispatcher.run_once()
    refused = (await rows(world))[message_id]
    assert refused.status == "pending" and "not a public address" in refused.last_error
    await world.client.patch(f"{V1}/add-ins/{hook['add_in']['id']}", headers=admin.headers, json={"enabled": False})
    assert await queue(world, admin, clock) == []  # a disabled webhook is owed nothing new
    clock.now += timedelta(minutes=1)
    await dispatcher.run_once()
    given_up = (await rows(world))[message_id]
    assert given_up.status == "failed" and "disabled" in given_up.last_error
    await dispatcher.close()
