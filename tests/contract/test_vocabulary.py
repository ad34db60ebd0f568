"""The shared vocabulary: one copy, used by the engine too."""

from __future__ import annotations

from contract import ops
from contract.vocabulary import KINDS, TIERS


def test_the_engine_uses_the_contracts_kinds() -> None:
    import engine

    assert engine.KINDS is KINDS == ("audio", "video")


def test_tiers_are_in_dependency_order() -> None:
    for op in (
        ops.CreatePlainTransport("t", "r", ("h", 1)),
        ops.Produce("p", "t", "audio", 1, ssrc=1),
        ops.Consume("c", "t", "p", 2),
    ):
        assert all(TIERS.index(tier) < TIERS.index(op.tier) for _, tier in op.parents())


def test_the_control_planes_kinds_are_the_contracts() -> None:
    from control.domain.roles import Kind

    assert tuple(Kind) == KINDS
