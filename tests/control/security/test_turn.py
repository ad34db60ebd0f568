"""TURN REST API credentials: the shared-secret scheme coturn's use-auth-secret checks."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from control.security.turn import TurnSettings, credential, ice_servers


def test_the_password_is_the_base64_hmac_sha1_of_the_username() -> None:
    # the TURN REST API draft's scheme, computed independently here
    expected = base64.b64encode(hmac.new(b"north", b"1700000000:p1", hashlib.sha1).digest()).decode()
    assert credential("north", "1700000000:p1") == expected
    assert len(base64.b64decode(expected)) == 20


def test_one_ice_server_per_participant_expiring_after_the_ttl() -> None:
    settings = TurnSettings(("turn:turn.example:3478", "turns:turn.example:443?transport=tcp"), "north", ttl=600)
    (server,) = ice_servers(settings, "p-42", now=1_700_000_000.7)
    assert server["urls"] == ["turn:turn.example:3478", "turns:turn.example:443?transport=tcp"]
    assert server["username"] == "1700000600:p-42"
    assert server["credential"] == credential("north", "1700000600:p-42")
    (other,) = ice_servers(settings, "p-43", now=1_700_000_000)
    assert other["credential"] != server["credential"]


def test_without_turn_there_are_no_ice_servers() -> None:
    assert ice_servers(None, "p1", now=0) == []


@pytest.mark.parametrize(
    "urls, secret, ttl, complaint",
    [
        ((), "s", 600, "at least one"),
        (("stun:stun.example",), "s", 600, "not a turn: or turns: URL"),
        (("turn:turn.example",), "", 600, "shared secret"),
        (("turn:turn.example",), "s", 5, "at least 60 s"),
    ],
)
def test_settings_refuse_what_cannot_work(urls, secret, ttl, complaint) -> None:
    with pytest.raises(ValueError, match=complaint):
        TurnSettings(urls, secret, ttl)
