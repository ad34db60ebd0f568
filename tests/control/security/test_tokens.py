from datetime import UTC, datetime, timedelta

import jwt
import pytest

from control.security.tokens import AccessClaims, InvalidToken, issue, verify

KEY = "k" * 40
CLAIMS = AccessClaims(user_id="u", company_id="c", session_id="s")


def test_round_trip():
    assert verify(KEY, issue(KEY, CLAIMS, timedelta(minutes=5))) == CLAIMS


def test_expired_wrong_key_and_wrong_audience_are_refused():
    past = datetime.now(UTC) - timedelta(hours=1)
    with pytest.raises(InvalidToken, match="access token expired"):
        verify(KEY, issue(KEY, CLAIMS, timedelta(minutes=5), now=past))
    with pytest.raises(InvalidToken, match="access token invalid"):
        verify("x" * 40, issue(KEY, CLAIMS, timedelta(minutes=5)))
    other = jwt.encode(
        {"sub": "u", "cid": "c", "sid": "s", "aud": "elsewhere", "exp": int(datetime.now(UTC).timestamp()) + 60},
        KEY,
        algorithm="HS256",
    )
    with pytest.raises(InvalidToken):
        verify(KEY, other)


def test_unsigned_and_malformed_tokens_are_refused():
    unsigned = jwt.encode(
        {"sub": "u", "cid": "c", "sid": "s", "aud": "podium-api", "exp": 2**40}, None, algorithm="none"
    )
    for token in (unsigned, "", "a.b.c"):
        with pytest.raises(InvalidToken):
            verify(KEY, token)


def test_claims_must_be_strings():
    token = jwt.encode({"sub": 1, "cid": "c", "sid": "s", "aud": "podium-api", "exp": 2**40}, KEY, algorithm="HS256")
    with pytest.raises(InvalidToken):
        verify(KEY, token)
