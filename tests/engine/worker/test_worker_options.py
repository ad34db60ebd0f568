"""What a worker's command line sets on its engine."""

from __future__ import annotations

from engine.worker.__main__ import engine_options, parse_args


def test_pacing_is_on_unless_switched_off_and_announced_hosts_are_given() -> None:
    assert engine_options(parse_args([])) == {"announced_hosts": None, "pace_from_remb": True}
    assert engine_options(parse_args(["--no-pacing", "--announce", "203.0.113.7"])) == {
        "announced_hosts": ["203.0.113.7"],
        "pace_from_remb": False,
    }
    assert engine_options(parse_args(["--pacing"]))["pace_from_remb"] is True
    assert engine_options(None)["pace_from_remb"] is True
