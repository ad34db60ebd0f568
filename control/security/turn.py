"""Short-lived TURN credentials, one per participant, under the TURN REST API's shared-secret scheme
(draft-uberti-behave-turn-rest-00; coturn's `use-auth-secret` / `static-auth-secret`):

    username = "<expiry, Unix seconds>:<participant id>"
    password = base64(HMAC-SHA1(shared secret, username))

The TURN server recomputes the password from the username and the secret it shares with the control
plane, and refuses a username whose expiry has passed, so the control plane keeps no state and a
leaked credential dies by itself. They reach clients in the `joined` frame as RTCIceServer objects."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

TURN_SCHEMES = ("turn:", "turns:")


@dataclass(frozen=True)
class TurnSettings:
    """The TURN servers clients may relay through (`podium serve --turn-url/--turn-secret/--turn-ttl`)."""

    urls: tuple[str, ...]
    """turn: or turns: URLs as RTCIceServer.urls takes them, e.g. "turn:turn.example.com:3478?transport=udp"."""
    secret: str
    """coturn's static-auth-secret."""
    ttl: int = 12 * 3600
    """Seconds a credential lives. coturn checks the expiry on every authenticated request, an
    allocation's refreshes included, so it must outlast the longest meeting."""

    def __post_init__(self) -> None:
        if not self.urls:
            raise ValueError("TURN needs at least one turn: or turns: URL")
        for url in self.urls:
            if not url.startswith(TURN_SCHEMES):
                raise ValueError(f"{url!r} is not a turn: or turns: URL")
        if not self.secret:
            raise ValueError("TURN needs the shared secret of its server (static-auth-secret)")
        if self.ttl < 60:
            raise ValueError("a TURN credential must live at least 60 s")


def credential(secret: str, username: str) -> str:
    """The password of `username`: base64(HMAC-SHA1(secret, username))."""
    mac = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def ice_servers(settings: TurnSettings | None, participant_id: str, now: float) -> list[dict[str, Any]]:
    """The RTCIceServer list for one participant: one entry holding every URL, with a credential that
    expires `settings.ttl` seconds after `now`; none without TURN."""
    if settings is None:
        return []
    username = f"{int(now) + settings.ttl}:{participant_id}"
    return [{"urls": list(settings.urls), "username": username, "credential": credential(settings.secret, username)}]
