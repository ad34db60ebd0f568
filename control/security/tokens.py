"""Short-lived access tokens: HS256 JWTs naming the user, the company and the login session."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
AUDIENCE = "podium-api"


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    company_id: str
    session_id: str


class InvalidToken(Exception):
    pass


def issue(key: str, claims: AccessClaims, ttl: timedelta, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    payload = {
        "sub": claims.user_id,
        "cid": claims.company_id,
        "sid": claims.session_id,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def verify(key: str, token: str) -> AccessClaims:
    """The claims of a valid, unexpired token; raises InvalidToken with the reason otherwise."""
    try:
        payload = jwt.decode(
            token, key, algorithms=[ALGORITHM], audience=AUDIENCE, options={"require": ["sub", "cid", "sid", "exp"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("access token expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("access token invalid") from exc
    if not all(isinstance(payload[k], str) for k in ("sub", "cid", "sid")):
        raise InvalidToken("access token invalid")
    return AccessClaims(user_id=payload["sub"], company_id=payload["cid"], session_id=payload["sid"])
