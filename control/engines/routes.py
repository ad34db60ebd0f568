"""The engines' HTTP routes; the application's lifespan puts the registry at app.state.engines."""

from __future__ import annotations

from starlette.routing import BaseRoute, WebSocketRoute

from control.engines.channel import CHANNEL_PATH, channel_endpoint


def routes() -> list[BaseRoute]:
    return [WebSocketRoute(CHANNEL_PATH, channel_endpoint)]
