"""A standard meeting, and the checks shared by the moderation tests: invariants of every state,
the order and agreement of every decision's effects."""

from control.domain.meeting_state import (
    Code,
    GateConsumer,
    GateProducer,
    MeetingState,
    Participant,
    Refused,
    RoomFeatures,
    media_plan,
    plan_changes,
    removed_until,
)
from control.domain.moderation import (
    Action,
    Allowed,
    Command,
    Disconnect,
)
from control.domain.roles import (
    ALL_CAPABILITIES,
    REQUIRED_CAPABILITY,
    VISIT_SOURCES,
    Role,
    Source,
    sources_of,
)

O, M, P = Role.ORGANIZER, Role.MODERATOR, Role.PARTICIPANT
MIC, CAM, SCREEN, SCREEN_AUDIO = Source.MICROPHONE, Source.CAMERA, Source.SCREEN, Source.SCREEN_AUDIO
HOUR = 3600.0
T0 = 1_000_000.0


def member(pid, role=P, *, registered=True, joined_at=0.0, waiting=False, on=frozenset(Source), rights=None, **kw):
    """A participant; their rights in the room default to their role (guests: participant)."""
    if rights is None:
        rights = role if registered else P
    return Participant(
        pid,
        "person-" + pid,
        registered=registered,
        role=role,
        rights=rights,
        joined_at=joined_at,
        waiting=waiting,
        capabilities=ALL_CAPABILITIES,
        sources_on=frozenset() if waiting else on,
        **kw,
    )


def standard(waiting_room=True, **kw) -> MeetingState:
    """o organizer; m1 registered and m2 guest moderators; p1 registered and p2 guest participants;
    w1, w2 waiting (when the room has a waiting room). Everyone admitted has every source on."""
    state = MeetingState(features=RoomFeatures(waiting_room=waiting_room), **kw)
    people = [
        member("o", O, joined_at=0),
        member("m1", M, joined_at=1),
        member("m2", M, registered=False, joined_at=2),
        member("p1", P, joined_at=3),
        member("p2", P, registered=False, joined_at=4),
    ]
    if waiting_room:
        people += [
            member("w1", P, joined_at=5, waiting=True),
            member("w2", P, registered=False, joined_at=6, waiting=True),
        ]
    for p in people:
        state = state.put(p)
    return state


# --- checks shared by the examples and the properties -------------------------------------------


def check_invariants(state: MeetingState, now: float) -> None:
    if state.ended:
        assert state.participants == ()
        return
    admitted = state.admitted()
    assert state.participants, "a meeting with nobody present has ended"
    organizers = [p for p in state.participants if p.role is O]
    seat_holders = [p for p in admitted if p.rights.moderates]
    assert len(organizers) == (1 if seat_holders else 0), "the seat is filled exactly when someone may hold it"
    for o in organizers:
        assert o.registered and o.admitted
        assert o.rights.moderates, "nobody organizes without moderator or organizer rights"
    for p in state.participants:
        assert p.rights.rank <= (O.rank if p.registered else P.rank), "guests hold participant rights"
    ids = [p.id for p in state.participants]
    assert len(ids) == len(set(ids))
    visited = [p.visiting for p in state.participants if p.visiting is not None]
    assert len(visited) == len(set(visited))
    plan = media_plan(state)
    for p in state.participants:
        assert p.role.rank <= O.rank
        assert p.person not in state.bans and p.person not in state.excluded
        assert removed_until(state.removals, p.person, now) is None
        if p.waiting:
            assert p.role is P and not p.floor and p.visiting is None
        if p.visiting is not None:
            assert p.admitted and p.role.moderates and state.get(p.visiting).waiting
        permitted = set().union(*(sources_of(c) for c in p.capabilities))
        assert p.sources_on <= permitted, "a revoked source is never on"
        if state.presenter_mode and p.admitted and p.visiting is None and MIC in p.sources_on:
            assert p.floor
        for source in Source:
            if plan.is_open(p.id, source):
                assert p.holds(REQUIRED_CAPABILITY[source]), "a revoked source is never open"
    for publisher, source, subscriber in plan.routes():
        pub, sub = state.get(publisher), state.get(subscriber)
        if pub.waiting:
            assert sub.visiting == pub.id and source in VISIT_SOURCES
        if sub.waiting:
            assert pub.visiting == sub.id and source in VISIT_SOURCES
    for w in state.waiting():
        for source in Source:
            if plan.is_open(w.id, source):
                assert source in VISIT_SOURCES and state.visitor_of(w.id) is not None


def check_effects(old: MeetingState, result: Allowed) -> None:
    gates = [e for e in result.effects if isinstance(e, (GateProducer, GateConsumer))]
    assert gates == plan_changes(media_plan(old), media_plan(result.state))
    kinds = [isinstance(e, (GateProducer, GateConsumer)) and e.open for e in result.effects]
    first_open = kinds.index(True) if True in kinds else len(kinds)
    assert all(kinds[first_open:]), "gate opens come last"
    closes = [isinstance(e, (GateProducer, GateConsumer)) and not e.open for e in result.effects]
    assert closes == sorted(closes, reverse=True), "gate closes come first"
    for e in result.effects:
        if isinstance(e, Disconnect):
            assert result.state.get(e.participant) is None


def revoke(target, capability):
    return Command(Action.REVOKE_PERMISSION, target, capability=capability)


def grant(target, capability):
    return Command(Action.GRANT_PERMISSION, target, capability=capability)


def allowed(result) -> Allowed:
    assert isinstance(result, Allowed), result
    return result


def refused(result, code: Code) -> Refused:
    assert isinstance(result, Refused), result
    assert result.code is code, result
    return result
