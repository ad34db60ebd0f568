import itertools

import pytest

from control.domain.roles import (
    ALL_CAPABILITIES,
    KIND,
    MUTABLE_BY_MODERATORS,
    REQUIRED_CAPABILITY,
    VISIT_SOURCES,
    Capability,
    Kind,
    MuteScope,
    Role,
    Source,
    default_capabilities,
    may_hold,
    outranks,
    sources_of,
)

O, M, P = Role.ORGANIZER, Role.MODERATOR, Role.PARTICIPANT


def test_ranks_are_strictly_ordered():
    assert O.rank > M.rank > P.rank
    assert max(r.rank for r in Role) == O.rank


@pytest.mark.parametrize("actor, target", list(itertools.product(Role, Role)))
def test_outranks_is_strict_rank_order(actor, target):
    expected = {(O, M), (O, P), (M, P)}
    assert outranks(actor, target) is ((actor, target) in expected)


def test_moderates():
    assert [r for r in Role if r.moderates] == [O, M]


@pytest.mark.parametrize("role, registered", list(itertools.product(Role, [True, False])))
def test_guests_are_never_organizers(role, registered):
    assert may_hold(role, registered=registered) is (registered or role is not O)


def test_every_source_needs_exactly_one_capability():
    assert set(REQUIRED_CAPABILITY) == set(Source)
    assert set(KIND) == set(Source)
    assert sources_of(Capability.MICROPHONE) == {Source.MICROPHONE}
    assert sources_of(Capability.CAMERA) == {Source.CAMERA}
    assert sources_of(Capability.SCREEN_SHARE) == {Source.SCREEN, Source.SCREEN_AUDIO}
    assert sources_of(Capability.CHAT) == frozenset()


def test_sources_use_the_engine_words():
    assert [s.value for s in Source] == ["microphone", "camera", "screen", "screen-audio"]
    assert {KIND[s] for s in Source} == {Kind.AUDIO, Kind.VIDEO}


def test_muting_and_visits_cover_microphone_and_camera_only():
    assert MUTABLE_BY_MODERATORS == VISIT_SOURCES == {Source.MICROPHONE, Source.CAMERA}
    assert MuteScope.AUDIO.sources == {Source.MICROPHONE}
    assert MuteScope.VIDEO.sources == {Source.CAMERA}
    assert MuteScope.BOTH.sources == {Source.MICROPHONE, Source.CAMERA}


@pytest.mark.parametrize("role, allowed", list(itertools.product(Role, [True, False])))
def test_default_capabilities(role, allowed):
    caps = default_capabilities(role, screen_share_allowed=allowed)
    if role.moderates or allowed:
        assert caps == ALL_CAPABILITIES
    else:
        assert caps == ALL_CAPABILITIES - {Capability.SCREEN_SHARE}
