"""Sending the queued webhook deliveries: signed with the `standardwebhooks` library, retried with
exponential backoff (`control.domain.webhooks.next_attempt`), never twice once a receiver acknowledged.

The dispatcher is one task of the control plane. It claims due rows with a conditional update (the row's
`next_attempt_at` moves to the end of a lease, so another dispatcher, or this one after a restart, takes
it only once the lease ran out), sends them outside any database transaction, and records the answer.
A control plane that stops mid-attempt leaves the row to be retried under the same `webhook-id`, which
receivers use to drop repeats (the specification's at-least-once contract); nothing acknowledged is
ever sent again.
"""

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from control.domain.webhooks import address_refusal, delivered, next_attempt
from control.security.sealing import Unsealable, unseal
from control.store.models import AddIn, WebhookDelivery
from control.webhooks.queue import DELIVERED, FAILED, PENDING, WEBHOOK_KIND
from control.webhooks.settings import WebhookSettings

log = logging.getLogger("podium.webhooks")

POLL = 1.0
"""Seconds between looks at the queue when nothing woke the dispatcher."""


class Refused(Exception):
    """The receiver's address is not allowed (control.domain.webhooks.address_refusal)."""


def _now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    def __init__(
        self,
        sessions: Callable[[], AbstractAsyncContextManager[AsyncSession]],
        settings: WebhookSettings,
        token_key: str,
        clock: Callable[[], datetime] = _now,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.token_key = token_key
        """Unseals the add-ins' signing secrets (control.security.sealing)."""
        self.clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._client = httpx.AsyncClient(
            timeout=settings.timeout, follow_redirects=False, trust_env=False, transport=transport
        )

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-dispatcher")

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    async def close(self) -> None:
        """Stop sending (what is owed stays in the queue); closing again does nothing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        await self._client.aclose()

    async def run_once(self) -> int:
        """Claim what is due and send it, waiting for the answers; how many were sent (for tests)."""
        claimed = await self._claim(self.settings.concurrency)
        await asyncio.gather(*(self._attempt(d) for d in claimed))
        return len(claimed)

    async def _run(self) -> None:
        while True:
            try:
                claimed = await self._claim(self.settings.concurrency - len(self._sending))
            except Exception:
                log.exception("webhook queue unreadable")
                claimed = []
            for delivery_id in claimed:
                task = asyncio.create_task(self._attempt(delivery_id))
                self._sending.add(task)
                task.add_done_callback(self._finished)
            if not claimed or len(self._sending) >= self.settings.concurrency:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), POLL)
                self._wake.clear()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._wake.set()  # room for another

    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.timeout + 30)

    async def _claim(self, room: int) -> list[str]:
        """Take up to `room` due deliveries: each one only if nobody else took it meanwhile."""
        if room <= 0:
            return []
        now = self.clock()
        claimed = []
        async with self.sessions() as session:
            due = (
                await session.execute(
                    select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
                    .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now)
                    .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.created_at)
                    .limit(room)
                )
            ).all()
            for delivery_id, due_at in due:
                result: Any = await session.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.id == delivery_id,
                        WebhookDelivery.status == PENDING,
                        WebhookDelivery.next_attempt_at == due_at,
                    )
                    .values(
                        next_attempt_at=now + self._lease(),
                        attempts=WebhookDelivery.attempts + 1,
                        last_attempt_at=now,
                    )
                )
                if result.rowcount == 1:
                    claimed.append(delivery_id)
            await session.commit()
        return claimed

    async def _attempt(self, delivery_id: str) -> None:
        async with self.sessions() as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            add_in = await session.get(AddIn, delivery.add_in_id) if delivery is not None else None
            if delivery is None or add_in is None:
                return
            url, sealed, body = add_in.url, add_in.signing_secret, delivery.payload
            usable = add_in.enabled and add_in.kind == WEBHOOK_KIND and sealed is not None
        status: int | None = None
        error: str | None = None
        secret = None
        if usable and sealed is not None:
            with contextlib.suppress(Unsealable):
                secret = unseal(self.token_key, sealed)
        if not usable or secret is None:
            usable = False
            error = "the add-in is disabled, no webhook, or holds no usable signing secret (issue one again)"
        else:
            try:
                status = await self._send(url, secret, delivery_id, body)
                if not delivered(status):
                    error = f"the receiver answered {status}"
            except Refused as refusal:
                error = str(refusal)
            except httpx.HTTPError as failure:
                error = f"{type(failure).__name__}: {failure}"[:500] or type(failure).__name__
        await self._record(delivery_id, status, error, give_up=not usable)

    async def _send(self, url: str, secret: str, message_id: str, body: str) -> int:
        await self._check_address(url)
        now = self.clock()
        signature = Webhook(secret).sign(message_id, now, body)
        response = await self._client.post(
            url,
            content=body.encode(),
            headers={
                "content-type": "application/json",
                "webhook-id": message_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": signature,
                "user-agent": "Podium-Webhooks/1",
            },
        )
        return response.status_code

    async def _check_address(self, url: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise Refused(f"cannot resolve {host}: {error}") from None
        for info in infos:
            problem = address_refusal(str(info[4][0]), private_allowed=self.settings.allow_private)
            if problem is not None:
                raise Refused(problem)

    async def _record(self, delivery_id: str, status: int | None, error: str | None, *, give_up: bool) -> None:
        now = self.clock()
        async with self.sessions() as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return
            delivery.last_status = status
            delivery.last_error = error
            if error is None:
                delivery.status, delivery.delivered_at, delivery.next_attempt_at = DELIVERED, now, None
            else:
                retry_at = None if give_up else next_attempt(self.settings.retry, delivery.attempts, now)
                delivery.next_attempt_at = retry_at
                if retry_at is None:
                    delivery.status = FAILED
            await session.commit()
        if error is not None:
            log.info("webhook delivery %s: %s", delivery_id, error)
