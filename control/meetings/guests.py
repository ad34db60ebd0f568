"""Guest session tokens: HS256 JWTs naming one guest session (its jti), revocable in the store."""

import unicodedata
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
    name: str | None = None
    """The display name the guest entered when redeeming (None: the invitation's invitee name). Signed
    with the token, so it cannot be changed afterwards; the person key stays the invitee's."""


def issue(key: str, claims: GuestClaims, ttl: timedelta, now: datetime) -> str:
    payload = {
        "jti": claims.session_id,
        "room": claims.room_id,
        "sub": claims.person,
        "aud": AUDIENCE,
        "typ": "guest",
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if claims.name is not None:
        payload["name"] = claims.name
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def looks_like_guest_token(token: str) -> bool:
    try:
        return jwt.decode(token, options={"verify_signature": False}).get("typ") == "guest"
    except jwt.PyJWTError:
        return False


def verify(key: str, token: str) -> GuestClaims:
    try:
        payload = jwt.decode(
            token, key, algorithms=[ALGORITHM], audience=AUDIENCE, options={"require": ["jti", "room", "sub", "exp"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("guest token expired", code="invalid_token") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("guest token invalid", code="invalid_token") from exc
    if not all(isinstance(payload[k], str) for k in ("jti", "room", "sub")):
        raise Unauthenticated("guest token invalid", code="invalid_token")
    name = payload.get("name")
    if name is not None and (not isinstance(name, str) or display_name_problem(name) is not None):
        raise Unauthenticated("guest token invalid", code="invalid_token")
    return GuestClaims(payload["jti"], payload["room"], payload["sub"], name)


MAX_DISPLAY_NAME = 64


def display_name_problem(name: str) -> str | None:
    """Why `name` (already trimmed) cannot be a guest's display name, or None: 1 to 64 characters,
    no control characters (nor lone surrogates, line or paragraph separators)."""
    if not name:
        return "a name cannot be empty"
    if len(name) > MAX_DISPLAY_NAME:
        return f"a name has at most {MAX_DISPLAY_NAME} characters, this one has {len(name)}"
    if name != name.strip():
        return "a name cannot begin or end with spaces"
    for ch in name:
        if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            return f"a name cannot contain the control character U+{ord(ch):04X}"
    return None
