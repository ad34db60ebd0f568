"""Guest session tokens: HS256 JWTs naming one guest session (its jti), revocable in the store."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from control.errors import Unauthenticated

ALGORITHM = "HS256"
AUDIENCE = "podium-guest"


@dataclass(frozen=True)
class GuestClaims:
    session_id: str
    """The jti: a row of guest_sessions, revocable."""
    room_id: str
    person: str


def issue(key: str, claims: GuestClaims, ttl: timedelta, now: datetime) -> str:
    payload = {"jti": claims.session_id, "room": claims.room_id, "sub": claims.person, "aud": AUDIENCE,
               "typ": "guest", "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def looks_like_guest_token(token: str) -> bool:
    try:
        return jwt.decode(token, options={"verify_signature": False}).get("typ") == "guest"
    except jwt.PyJWTError:
        return False


def verify(key: str, token: str) -> GuestClaims:
    try:
        payload = jwt.decode(token, key, algorithms=[ALGORITHM], audience=AUDIENCE,
                             options={"require": ["jti", "room", "sub", "exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("guest token expired", code="invalid_token") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("guest token invalid", code="invalid_token") from exc
    if not all(isinstance(payload[k], str) for k in ("jti", "room", "sub")):
        raise Unauthenticated("guest token invalid", code="invalid_token")
    return GuestClaims(payload["jti"], payload["room"], payload["sub"])
