"""The live meetings for `GET /metrics`: a prometheus_client collector over the meeting service,
read at scrape time.

    podium_meetings{worker}                   gauge      live meetings, by the engine worker hosting them
    podium_participants{worker,state}         gauge      admitted, waiting (in the waiting room)
    podium_participant_connections{worker}    gauge      participants with an open signaling connection
    podium_moderation_seconds                 histogram  moderation request → engine ack of its table version
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily, Metric

from control.meetings.pipes import worker_of

if TYPE_CHECKING:
    from control.meetings.service import MeetingService


class MeetingCollector:
    def __init__(self, service: MeetingService) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        meetings: Counter[str] = Counter()
        admitted: Counter[str] = Counter()
        waiting: Counter[str] = Counter()
        connected: Counter[str] = Counter()
        for live in list(self.service.live.values()):
            home = live.media.worker_id
            meetings[home] += 1
            peers = live.media.peers
            for participant in live.state.participants:  # on their own worker (a meeting may span several)
                worker = worker_of(peers.get(participant.id), home)
                (waiting if participant.waiting else admitted)[worker] += 1
                connected[worker] += participant.id in live.links
        family = GaugeMetricFamily("podium_meetings", "Live meetings, by engine worker.", labels=["worker"])
        for worker, count in sorted(meetings.items()):
            family.add_metric([worker], count)
        yield family
        family = GaugeMetricFamily(
            "podium_participants",
            "Participants of live meetings: admitted, or waiting in the waiting room.",
            labels=["worker", "state"],
        )
        for worker in sorted(set(meetings) | set(admitted) | set(waiting)):
            family.add_metric([worker, "admitted"], admitted[worker])
            family.add_metric([worker, "waiting"], waiting[worker])
        yield family
        family = GaugeMetricFamily(
            "podium_participant_connections",
            "Participants of live meetings with an open signaling connection.",
            labels=["worker"],
        )
        for worker in sorted(set(meetings) | set(connected)):
            family.add_metric([worker], connected[worker])
        yield family
        yield from self.service.action_latency.collect()
