"""Resume tokens: an HS256 JWT the `joined` frame carries, naming one participant of one meeting.

A client whose socket closed (a reload, a network blip, a control-plane restart) joins again with
it and becomes that same participant again, with its role, permissions and place (docs/signaling.md,
"Resuming"). It is signed with the control plane's token key, kept in the database, so a token
outlives a restart of the control plane. It has no expiry of its own: it is good exactly while its
participant is in the meeting's state, which the service checks; the token still authenticates the
person (`join.token`) as every join does, so a revoked or banned person cannot resume.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
AUDIENCE = "podium-resume"


@dataclass(frozen=True)
class ResumeClaims:
    meeting_id: str
    participant_id: str
    person: str
    """The person key (`u:<user id>` or a guest's invitee key) the join's token must authenticate."""


def issue(key: str, claims: ResumeClaims, now: float) -> str:
    payload = {
        "mid": claims.meeting_id,
        "pid": claims.participant_id,
        "sub": claims.person,
        "aud": AUDIENCE,
        "typ": "resume",
        "iat": int(now),
    }
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def verify(key: str, token: str) -> ResumeClaims | None:
    """The token's claims, or None when it is not a resume token signed with `key` (a stale or forged
    token is no error: its holder joins as a new participant)."""
    try:
        payload = jwt.decode(
            token, key, algorithms=[ALGORITHM], audience=AUDIENCE, options={"require": ["mid", "pid", "sub"]}
        )
    except jwt.PyJWTError:
        return None
    fields = (payload.get("mid"), payload.get("pid"), payload.get("sub"))
    if payload.get("typ") != "resume" or not all(isinstance(f, str) for f in fields):
        return None
    return ResumeClaims(*fields)  # type: ignore[arg-type]
