"""A driver for Janus's VideoRoom plugin over its HTTP API, with aiortc peers.

One Janus session per participant, with its long poll for asynchronous events. A publisher joins
(ptype publisher, a chosen feed id) and publishes an aiortc offer; a subscriber joins (ptype
subscriber) with one stream per feed it watches, answers Janus's offer and starts. Janus answers with
its candidates in the SDP (the aiortc offer does not trickle), so no trickle request is needed."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import Any

import httpx
from aiortc import RTCPeerConnection, RTCSessionDescription

from .browser_sdp import LAYER_SHARES, accept_transport_cc, simulcast_offer
from .media import AUDIO, VIDEO, Recorder, SilentTrack, Stream

PLUGIN = "janus.plugin.videoroom"
TIMEOUT = 20.0


class JanusError(Exception):
    pass


class JanusSession:
    """A Janus session and the handles attached to it; events are routed by transaction."""

    def __init__(self, http: httpx.AsyncClient, url: str, session_id: int) -> None:
        self.http = http
        self.url = url
        self.id = session_id
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._poller = asyncio.ensure_future(self._poll())

    @classmethod
    async def create(cls, http: httpx.AsyncClient, url: str) -> JanusSession:
        reply = await _post(http, url, {"janus": "create"})
        return cls(http, url, reply["data"]["id"])

    async def attach(self) -> int:
        reply = await _post(self.http, f"{self.url}/{self.id}", {"janus": "attach", "plugin": PLUGIN})
        return int(reply["data"]["id"])

    async def message(self, handle: int, body: dict[str, Any], jsep: dict[str, Any] | None = None) -> dict[str, Any]:
        """A VideoRoom request; returns its plugin event (the reply itself when synchronous)."""
        transaction = secrets.token_hex(8)
        future = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = future
        request: dict[str, Any] = {"janus": "message", "body": body, "transaction": transaction}
        if jsep is not None:
            request["jsep"] = jsep
        try:
            reply = await _post(self.http, f"{self.url}/{self.id}/{handle}", request)
            if reply["janus"] != "ack":
                event = reply
            else:
                async with asyncio.timeout(TIMEOUT):
                    event = await future
        finally:
            self._waiting.pop(transaction, None)
        data = event.get("plugindata", {}).get("data", {})
        if "error" in data:
            raise JanusError(f"{body.get('request')}: {data['error']} ({data.get('error_code')})")
        return event

    async def _poll(self) -> None:
        while True:
            try:
                response = await self.http.get(f"{self.url}/{self.id}", params={"maxev": 10}, timeout=40)
                events = response.json()
            except httpx.HTTPError:
                await asyncio.sleep(0.2)
                continue
            for event in events if isinstance(events, list) else [events]:
                future = self._waiting.get(event.get("transaction", ""))
                if future is not None and not future.done() and event.get("janus") == "event":
                    future.set_result(event)

    async def destroy(self) -> None:
        self._poller.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError, JanusError):
            await self._poller
            await _post(self.http, f"{self.url}/{self.id}", {"janus": "destroy"})


async def _post(http: httpx.AsyncClient, url: str, request: dict[str, Any]) -> dict[str, Any]:
    request.setdefault("transaction", secrets.token_hex(8))
    reply = (await http.post(url, json=request, timeout=TIMEOUT)).json()
    if reply.get("janus") == "error":
        raise JanusError(f"{request['janus']}: {reply['error']}")
    return reply


async def create_room(session: JanusSession, room: int, publishers: int) -> None:
    handle = await session.attach()
    await session.message(
        handle,
        {
            "request": "create",
            "room": room,
            "publishers": publishers,
            "audiocodec": "opus",
            "videocodec": "vp8",
            "bitrate": 0,
            "permanent": False,
        },
    )


async def wait_connected(pc: RTCPeerConnection) -> None:
    async with asyncio.timeout(TIMEOUT):
        while pc.connectionState != "connected":
            if pc.connectionState in ("failed", "closed"):
                raise JanusError(f"peer connection {pc.connectionState}")
            await asyncio.sleep(0.02)


class JanusPeer:
    """One participant: optionally a publisher (audio and video), optionally a subscriber."""

    def __init__(self, index: int, session: JanusSession) -> None:
        self.index = index
        self.session = session
        self.pcs: list[RTCPeerConnection] = []

    @classmethod
    async def open(cls, index: int, http: httpx.AsyncClient, url: str) -> JanusPeer:
        return cls(index, await JanusSession.create(http, url))

    async def publish(self, room: int, simulcast: bool = True) -> list[Stream]:
        """Joins as publisher with feed id = index + 1 and publishes (its video in simulcast layers
        unless `simulcast` is False: browser_sdp); returns its streams."""
        handle = await self.session.attach()
        await self.session.message(
            handle, {"request": "join", "ptype": "publisher", "room": room, "id": self.index + 1}
        )
        pc = RTCPeerConnection()
        self.pcs.append(pc)
        for kind in ("audio", "video"):
            pc.addTransceiver(SilentTrack(kind), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        offer, layers = simulcast_offer(pc.localDescription.sdp) if simulcast else (pc.localDescription.sdp, None)
        event = await self.session.message(
            handle, {"request": "publish", "audio": True, "video": True}, {"type": "offer", "sdp": offer}
        )
        await pc.setRemoteDescription(RTCSessionDescription(event["jsep"]["sdp"], "answer"))
        await wait_connected(pc)
        return published_streams(self.index, pc, layers.ssrcs if layers else None)

    async def subscribe(self, room: int, feeds: list[int], recorder: Recorder) -> None:
        """Subscribes to the audio and video of these publishers (their indexes)."""
        handle = await self.session.attach()
        event = await self.session.message(
            handle,
            {
                "request": "join",
                "ptype": "subscriber",
                "room": room,
                "streams": [{"feed": feed + 1} for feed in feeds],
            },
        )
        pc = RTCPeerConnection()
        self.pcs.append(pc)
        offer = event["jsep"]["sdp"]
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        recorder.hook(self.index, pc.getTransceivers()[0].receiver.transport, pc)
        answer = accept_transport_cc(pc.localDescription.sdp, offer)
        await self.session.message(handle, {"request": "start", "room": room}, {"type": "answer", "sdp": answer})
        await wait_connected(pc)

    async def close(self) -> None:
        for pc in self.pcs:
            with contextlib.suppress(Exception):
                await pc.close()
        await self.session.destroy()


def published_streams(publisher: int, pc: RTCPeerConnection, layers: tuple[int, ...] | None) -> list[Stream]:
    """The streams a connected publisher sends: its audio, and its video as one stream or as simulcast
    layers (their SSRCs, lowest first; the top one forwarded)."""
    streams = []
    for t in pc.getTransceivers():
        payload_type = t._codecs[0].payloadType
        if t.kind == "audio":
            streams.append(Stream(publisher, AUDIO, t.sender.transport, t.sender._ssrc, payload_type))
        elif layers is None:
            streams.append(Stream(publisher, VIDEO, t.sender.transport, t.sender._ssrc, payload_type))
        else:
            top = len(layers) - 1
            streams += [
                Stream(
                    publisher,
                    VIDEO,
                    t.sender.transport,
                    ssrc,
                    payload_type,
                    layer=i,
                    share=LAYER_SHARES[i],
                    forwarded=i == top,
                )
                for i, ssrc in enumerate(layers)
            ]
    return streams
