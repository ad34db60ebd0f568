"""Metrics in the Prometheus text exposition format (version 0.0.4), without a client library:
a histogram, the rendering of samples, and the GET /metrics endpoint. The registries that own
metrics render their own lines."""

import math
from collections.abc import Iterable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds; from half a millisecond (a loopback round trip) to the ack timeout."""


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def header(name: str, kind: str, help_text: str) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


def sample(name: str, value: float, labels: dict[str, str] | None = None) -> str:
    return f"{name}{_labels(labels or {})} {_number(value)}"


def samples(name: str, kind: str, help_text: str, values: Iterable[tuple[dict[str, str], float]]) -> list[str]:
    return header(name, kind, help_text) + [sample(name, v, labels) for labels, v in values]


class Histogram:
    """Cumulative buckets, a sum and a count, as Prometheus expects them."""

    def __init__(self, name: str, help_text: str, buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.name = name
        self.help = help_text
        self.buckets = tuple(sorted(buckets))
        self.counts = [0] * len(self.buckets)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.sum += value
        self.count += 1
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
                break

    def render(self) -> list[str]:
        lines = header(self.name, "histogram", self.help)
        cumulative = 0
        for bound, count in zip(self.buckets, self.counts):
            cumulative += count
            lines.append(sample(self.name + "_bucket", cumulative, {"le": _number(bound)}))
        lines.append(sample(self.name + "_bucket", self.count, {"le": "+Inf"}))
        lines.append(sample(self.name + "_sum", self.sum))
        lines.append(sample(self.name + "_count", self.count))
        return lines


# ---- the endpoint ------------------------------------------------------------------------------

METRICS_PATH = "/metrics"


async def endpoint(request: Request) -> Response:
    """Prometheus metrics (GET /metrics): the text of every source the application lists at
    app.state.metrics (callables returning exposition text), in order."""
    sources = getattr(request.app.state, "metrics", None) or []
    return Response("".join(source() for source in sources), media_type=CONTENT_TYPE)


def routes() -> list[BaseRoute]:
    return [Route(METRICS_PATH, endpoint, methods=["GET"])]
