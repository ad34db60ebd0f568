"""EngineChannel: what the worker reports to the control plane."""

from __future__ import annotations

import asyncio
import json

import pytest

from contract.ops import Batch
from engine import Engine, Router
from engine.events import AudioLevels, DominantSpeakerChanged, ProducerSsrcLearned, TransportStateChanged
from engine.worker.client import EVENT_NAMES, EngineChannel

webrtc = pytest.mark.skipif(not hasattr(Router, "create_webrtc_transport"), reason="engine without WebRTC")
TRANSPORT = [
    {"op": "create_router", "id": "r1"},
    {"op": "create_webrtc_transport", "id": "w", "router_id": "r1", "ice_ufrag": "ufrag123", "ice_pwd": "p" * 24},
]


def test_every_engine_event_has_a_wire_name() -> None:
    from engine import events

    assert set(EVENT_NAMES) == set(events.EngineEvent.__args__)  # type: ignore[attr-defined]
    assert len(set(EVENT_NAMES.values())) == len(EVENT_NAMES)


@webrtc
async def test_engine_events_name_objects_by_control_id(engine: Engine) -> None:
    channel = EngineChannel(engine, "ws://127.0.0.1:9/none", "secret", "w1")
    channel.executor.apply_batch(Batch("e1", 1, False, TRANSPORT))
    outbox: asyncio.Queue[str] = asyncio.Queue()
    channel._outbox = outbox
    engine_id = channel.executor.objects["w"].id
    engine.on_event(TransportStateChanged(engine_id, "failed", "fingerprint mismatch"))
    message = json.loads(outbox.get_nowait())
    assert message == {
        "type": "event",
        "event": "transport_state_changed",
        "transport_id": "w",
        "state": "failed",
        "reason": "fingerprint mismatch",
    }
    engine.on_event(ProducerSsrcLearned(12345, 99))  # an object the control plane did not create
    assert json.loads(outbox.get_nowait()) == {
        "type": "event",
        "event": "producer_ssrc_learned",
        "producer_id": None,
        "ssrc": 99,
        "rtx": False,
    }
    router_id = channel.executor.objects["r1"].id
    engine.on_event(DominantSpeakerChanged(router_id, None))  # nobody speaks: null on the wire
    assert json.loads(outbox.get_nowait()) == {
        "type": "event",
        "event": "dominant_speaker_changed",
        "router_id": "r1",
        "producer_id": None,
    }
    produce = {"op": "produce", "id": "mic", "transport_id": "w", "kind": "audio", "payload_type": 111, "ssrc": 1}
    channel.executor.apply_batch(Batch("e1", 2, False, [produce]))
    mic = channel.executor.objects["mic"].id
    engine.on_event(AudioLevels(router_id, 0.2, ((mic, "0a0b"), (12345, "0c"))))  # producers by control id
    assert json.loads(outbox.get_nowait()) == {
        "type": "event",
        "event": "audio_levels",
        "router_id": "r1",
        "elapsed": 0.2,
        "levels": [["mic", "0a0b"]],  # those the control plane did not create left out
    }
